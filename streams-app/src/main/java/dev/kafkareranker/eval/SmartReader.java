package dev.kafkareranker.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SMART layout of the Glasgow IR test collections (MED, CRAN, CISI, ...): one {@code *.ALL} file of
 * documents, one {@code *.QRY} of queries, one {@code *.REL} of judgements.
 *
 * <p>Documents and queries: a line {@code .I <id>} opens a record; a line {@code .X} (one capital
 * letter) opens field X. The text of fields {@code .T} (title) and {@code .W} (abstract) is kept, in
 * order; other fields (authors, bibliographic data) are skipped.
 *
 * <p>Judgements come in the two shapes these collections are distributed in, whitespace-separated:
 * <ul>
 *   <li>three columns {@code <qid> <docid> <grade>} (MED.REL): the grade as written;</li>
 *   <li>four columns {@code <qid> <docid> 0 0.000000} (CISI.REL, CACM's qrels.text): a listed pair is
 *       relevant, so it gets grade 1. The last two columns are the same placeholder on every line of
 *       those files, not grades, and are ignored.</li>
 * </ul>
 */
final class SmartReader implements CollectionReader {

    private static final Pattern ID_LINE = Pattern.compile("^\\.I\\s+(\\S+)\\s*$");
    private static final Pattern FIELD_LINE = Pattern.compile("^\\.([A-Z])(\\s.*)?$");
    private static final String TEXT_FIELDS = "TW";
    /** The grade of a pair listed in a four-column judgements file, where listing is the judgement. */
    static final int LISTED_AS_RELEVANT = 1;

    @Override
    public TestCollection read(Path dir) throws IOException {
        Map<String, String> documents = records(CollectionFiles.singleWithSuffix(dir, ".ALL"));
        List<EvalQuery> queries = new ArrayList<>();
        records(CollectionFiles.singleWithSuffix(dir, ".QRY")).forEach((id, text) -> queries.add(new EvalQuery(id, text)));
        Qrels.Builder qrels = Qrels.builder();
        for (CollectionFiles.Line line : CollectionFiles.lines(CollectionFiles.singleWithSuffix(dir, ".REL"))) {
            if (line.text().isBlank()) {
                continue;
            }
            String[] cols = line.text().strip().split("\\s+");
            switch (cols.length) {
                case 3 -> qrels.add(cols[0], cols[1], CollectionFiles.parseGrade(line, cols[2]));
                case 4 -> qrels.add(cols[0], cols[1], LISTED_AS_RELEVANT);
                default -> throw line.error("expected '<query id> <doc id> <relevance>' (MED) or "
                        + "'<query id> <doc id> 0 0.0' (CISI, CACM), found " + cols.length + " columns");
            }
        }
        return new TestCollection(dir.getFileName().toString(), documents, queries, qrels.build());
    }

    /** id to text of every record of a SMART file, in file order. */
    static Map<String, String> records(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        CollectionFiles.Line opened = null;
        String id = null;
        StringBuilder text = new StringBuilder();
        boolean keep = false;
        for (CollectionFiles.Line line : CollectionFiles.lines(file)) {
            Matcher idLine = ID_LINE.matcher(line.text());
            Matcher fieldLine = FIELD_LINE.matcher(line.text());
            if (idLine.matches()) {
                put(out, opened, id, text);
                opened = line;
                id = idLine.group(1);
                text.setLength(0);
                keep = false;
            } else if (fieldLine.matches()) {
                if (id == null) {
                    throw line.error("field before the first .I line");
                }
                keep = TEXT_FIELDS.indexOf(fieldLine.group(1).charAt(0)) >= 0;
            } else if (keep) {
                text.append(line.text()).append(' ');
            } else if (id == null && !line.text().isBlank()) {
                throw line.error("text before the first .I line");
            }
        }
        put(out, opened, id, text);
        return out;
    }

    private static void put(Map<String, String> out, CollectionFiles.Line opened, String id, StringBuilder text) {
        if (id != null && out.put(id, CollectionFiles.clean(text.toString())) != null) {
            throw opened.error("record id " + id + " appears twice");
        }
    }
}
