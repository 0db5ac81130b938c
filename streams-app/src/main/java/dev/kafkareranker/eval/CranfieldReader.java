package dev.kafkareranker.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Cranfield collection as it is distributed: {@code cran.all.1400} (documents), {@code cran.qry}
 * (queries) and {@code cranqrel} (judgements). Documents and queries use the SMART record layout, read
 * by {@link SmartReader#records}; two things differ from the other SMART collections:
 *
 * <ul>
 *   <li>{@code cranqrel} numbers the queries 1 to 225 in the order they appear in {@code cran.qry}, whose
 *       own {@code .I} numbers run from 001 to 365 with gaps. Queries are therefore identified by their
 *       position, as cranqrel does, not by their {@code .I} line.</li>
 *   <li>Grades run from 1 (a complete answer) to 4 (of minimum interest), and -1 (or 5 in some copies)
 *       for "of no interest". NDCG needs larger to mean better, so the grade becomes a gain of
 *       {@code 5 - grade} (1 becomes 4, 4 becomes 1) and -1 or 5 becomes 0, judged not relevant.</li>
 * </ul>
 */
final class CranfieldReader implements CollectionReader {

    static final String DOCUMENTS = "cran.all.1400";
    static final String QUERIES = "cran.qry";
    static final String QRELS = "cranqrel";

    static boolean looksLike(Path dir) {
        return Files.isRegularFile(dir.resolve(DOCUMENTS)) && Files.isRegularFile(dir.resolve(QUERIES))
                && Files.isRegularFile(dir.resolve(QRELS));
    }

    @Override
    public TestCollection read(Path dir) throws IOException {
        Map<String, String> documents = SmartReader.records(CollectionFiles.required(dir, DOCUMENTS));
        List<EvalQuery> queries = new ArrayList<>();
        int position = 0;
        for (String text : SmartReader.records(CollectionFiles.required(dir, QUERIES)).values()) {
            queries.add(new EvalQuery(String.valueOf(++position), text));
        }
        Qrels.Builder qrels = Qrels.builder();
        for (CollectionFiles.Line line : CollectionFiles.lines(CollectionFiles.required(dir, QRELS))) {
            if (line.text().isBlank()) {
                continue;
            }
            String[] cols = line.text().strip().split("\\s+");
            if (cols.length != 3) {
                throw line.error("expected '<query number> <doc id> <grade 1-4 or -1>', found " + cols.length + " columns");
            }
            qrels.add(cols[0], cols[1], gain(line, CollectionFiles.parseGrade(line, cols[2])));
        }
        return new TestCollection(dir.getFileName().toString(), documents, queries, qrels.build());
    }

    /** Cranfield's grade (1 best .. 4, -1 or 5 none) as a gain where larger is better. */
    static int gain(CollectionFiles.Line line, int grade) {
        return switch (grade) {
            case 1, 2, 3, 4 -> 5 - grade;
            case -1, 5 -> 0;
            default -> throw line.error("grade " + grade + " is not one of Cranfield's 1, 2, 3, 4, -1 (or 5)");
        };
    }
}
