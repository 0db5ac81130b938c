package dev.kafkareranker.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A simple TREC layout: a directory holding
 * <ul>
 *   <li>documents, either {@code corpus.tsv} ({@code docid<TAB>text} per line) or a folder {@code corpus/}
 *       of files in TREC's SGML form, {@code <DOC><DOCNO>id</DOCNO><TEXT>...</TEXT></DOC>}, where the text
 *       is what {@code <TITLE>}, {@code <HEADLINE>} and {@code <TEXT>} elements hold, inner tags removed;</li>
 *   <li>{@code topics.tsv}: {@code qid<TAB>query} per line;</li>
 *   <li>{@code qrels.txt}: TREC qrels, {@code qid iteration docid relevance} per line.</li>
 * </ul>
 * TREC's own topic files ({@code <top><num>...}) are not read: convert them to {@code topics.tsv} first,
 * choosing title or description, which is a choice the reader should not make silently.
 */
final class TrecReader implements CollectionReader {

    static final String CORPUS_TSV = "corpus.tsv";
    static final String CORPUS_DIR = "corpus";
    static final String TOPICS = "topics.tsv";
    static final String QRELS = "qrels.txt";

    private static final int FLAGS = Pattern.CASE_INSENSITIVE | Pattern.DOTALL;
    private static final Pattern DOC = Pattern.compile("<DOC>(.*?)</DOC>", FLAGS);
    private static final Pattern DOCNO = Pattern.compile("<DOCNO>(.*?)</DOCNO>", FLAGS);
    private static final Pattern TEXT_ELEMENT = Pattern.compile("<(TITLE|HEADLINE|TEXT)>(.*?)</\\1>", FLAGS);
    private static final Pattern TAG = Pattern.compile("<[^>]*>");

    @Override
    public TestCollection read(Path dir) throws IOException {
        Map<String, String> documents = documents(dir);
        List<EvalQuery> queries = new ArrayList<>();
        for (Map.Entry<String, String> topic : tabSeparated(CollectionFiles.required(dir, TOPICS)).entrySet()) {
            queries.add(new EvalQuery(topic.getKey(), topic.getValue()));
        }
        Qrels.Builder qrels = Qrels.builder();
        for (CollectionFiles.Line line : CollectionFiles.lines(CollectionFiles.required(dir, QRELS))) {
            if (line.text().isBlank()) {
                continue;
            }
            String[] cols = line.text().strip().split("\\s+");
            if (cols.length != 4) {
                throw line.error("expected '<query id> <iteration> <doc id> <relevance>', found " + cols.length + " columns");
            }
            qrels.add(cols[0], cols[2], CollectionFiles.parseGrade(line, cols[3]));
        }
        return new TestCollection(dir.getFileName().toString(), documents, queries, qrels.build());
    }

    static boolean looksLike(Path dir) {
        return Files.isRegularFile(dir.resolve(TOPICS)) && Files.isRegularFile(dir.resolve(QRELS));
    }

    private static Map<String, String> documents(Path dir) throws IOException {
        Path tsv = dir.resolve(CORPUS_TSV);
        Path sgml = dir.resolve(CORPUS_DIR);
        if (Files.isRegularFile(tsv)) {
            return tabSeparated(tsv);
        }
        if (Files.isDirectory(sgml)) {
            Map<String, String> out = new LinkedHashMap<>();
            List<Path> files;
            try (Stream<Path> walk = Files.walk(sgml)) {
                files = walk.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path file : files) {
                sgmlDocuments(file, out);
            }
            return out;
        }
        throw new IllegalArgumentException("TREC layout needs documents in " + tsv + " or in files under " + sgml + "/; found neither");
    }

    static void sgmlDocuments(Path file, Map<String, String> out) throws IOException {
        String content = Files.readString(file, StandardCharsets.UTF_8);
        Matcher doc = DOC.matcher(content);
        while (doc.find()) {
            String body = doc.group(1);
            Matcher docno = DOCNO.matcher(body);
            if (!docno.find() || docno.group(1).isBlank()) {
                throw new IllegalArgumentException(file + ": a <DOC> without <DOCNO> at character " + doc.start());
            }
            String id = docno.group(1).strip();
            StringBuilder text = new StringBuilder();
            Matcher element = TEXT_ELEMENT.matcher(body);
            while (element.find()) {
                text.append(TAG.matcher(element.group(2)).replaceAll(" ")).append(' ');
            }
            if (out.put(id, CollectionFiles.clean(text.toString())) != null) {
                throw new IllegalArgumentException(file + ": DOCNO " + id + " appears twice");
            }
        }
    }

    /** {@code id<TAB>text} lines, in file order; blank lines are skipped. */
    static Map<String, String> tabSeparated(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (CollectionFiles.Line line : CollectionFiles.lines(file)) {
            if (line.text().isBlank()) {
                continue;
            }
            int tab = line.text().indexOf('\t');
            if (tab <= 0) {
                throw line.error("expected '<id><TAB><text>'");
            }
            String id = line.text().substring(0, tab).strip();
            if (out.put(id, CollectionFiles.clean(line.text().substring(tab + 1))) != null) {
                throw line.error("id " + id + " appears twice");
            }
        }
        return out;
    }
}
