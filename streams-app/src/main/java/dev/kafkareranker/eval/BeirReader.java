package dev.kafkareranker.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BEIR's layout: {@code corpus.jsonl} ({@code _id}, {@code title}, {@code text}), {@code queries.jsonl}
 * ({@code _id}, {@code text}) and {@code qrels/test.tsv} (a header line {@code query-id corpus-id score},
 * then tab-separated rows).
 *
 * <p>A document's text is its title and text joined by a space, as BEIR's own rerankers feed them.
 * Only queries that {@code qrels/test.tsv} judges are kept: BEIR's queries.jsonl often holds the train
 * and dev queries too, and those are not part of the test.
 */
final class BeirReader implements CollectionReader {

    static final String CORPUS = "corpus.jsonl";
    static final String QUERIES = "queries.jsonl";
    static final String QRELS = "qrels/test.tsv";

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public TestCollection read(Path dir) throws IOException {
        Map<String, String> documents = new LinkedHashMap<>();
        for (CollectionFiles.Line line : CollectionFiles.lines(CollectionFiles.required(dir, CORPUS))) {
            if (line.text().isBlank()) {
                continue;
            }
            JsonNode doc = json(line);
            String title = doc.path("title").asText("");
            String text = doc.path("text").asText("");
            String id = id(line, doc);
            if (documents.put(id, CollectionFiles.clean(title + " " + text)) != null) {
                throw line.error("_id " + id + " appears twice");
            }
        }

        Qrels.Builder builder = Qrels.builder();
        for (CollectionFiles.Line line : CollectionFiles.lines(CollectionFiles.required(dir, QRELS))) {
            if (line.text().isBlank() || (line.number() == 1 && line.text().startsWith("query-id"))) {
                continue;
            }
            String[] cols = line.text().strip().split("\t");
            if (cols.length != 3) {
                throw line.error("expected 'query-id<TAB>corpus-id<TAB>score', found " + cols.length + " columns");
            }
            builder.add(cols[0].strip(), cols[1].strip(), CollectionFiles.parseGrade(line, cols[2].strip()));
        }
        Qrels qrels = builder.build();

        List<EvalQuery> queries = new ArrayList<>();
        for (CollectionFiles.Line line : CollectionFiles.lines(CollectionFiles.required(dir, QUERIES))) {
            if (line.text().isBlank()) {
                continue;
            }
            JsonNode query = json(line);
            String id = id(line, query);
            if (qrels.queryIds().contains(id)) {
                queries.add(new EvalQuery(id, CollectionFiles.clean(query.path("text").asText(""))));
            }
        }
        return new TestCollection(dir.getFileName().toString(), documents, queries, qrels);
    }

    static boolean looksLike(Path dir) {
        return Files.isRegularFile(dir.resolve(CORPUS));
    }

    private static JsonNode json(CollectionFiles.Line line) {
        try {
            return JSON.readTree(line.text());
        } catch (JsonProcessingException e) {
            throw line.error("not a JSON object (" + e.getOriginalMessage() + ")");
        }
    }

    private static String id(CollectionFiles.Line line, JsonNode node) {
        JsonNode id = node.get("_id");
        if (id == null || id.isNull() || id.asText().isBlank()) {
            throw line.error("no _id");
        }
        return id.asText();
    }
}
