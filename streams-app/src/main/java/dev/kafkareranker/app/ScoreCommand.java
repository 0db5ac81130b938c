package dev.kafkareranker.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code reranker score}: scores pairs given as JSON lines, without Kafka, to check a model. A line is
 * {@code {"query": "...", "document": "..."}} or {@code {"query": "...", "documents": ["...", ...]}};
 * each document gets one output line with its logit and score.
 */
final class ScoreCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;

    ScoreCommand(PrintStream out) {
        this.out = out;
    }

    int run(RerankerConfig config, BufferedReader in) throws IOException {
        try (Scorer scorer = RerankerApp.openScorer(config)) {
            int lineNo = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException("line " + lineNo + ": not a JSON object: " + e.getOriginalMessage());
                }
                if (!node.path("query").isTextual()) {
                    throw new IllegalArgumentException("line " + lineNo + ": needs a \"query\" string");
                }
                List<String> documents = new ArrayList<>();
                if (node.path("document").isTextual()) {
                    documents.add(node.get("document").asText());
                }
                node.path("documents").forEach(d -> documents.add(d.asText()));
                if (documents.isEmpty()) {
                    throw new IllegalArgumentException("line " + lineNo + ": needs \"document\" or \"documents\"");
                }
                String query = node.get("query").asText();
                List<Score> scores = scorer.score(query, documents);
                for (int i = 0; i < documents.size(); i++) {
                    ObjectNode row = JSON.createObjectNode();
                    row.put("query", query);
                    row.put("document", documents.get(i));
                    row.put("logit", scores.get(i).logit());
                    row.put("score", scores.get(i).score());
                    row.put("model", scorer.modelName());
                    out.println(row);
                }
            }
        }
        return 0;
    }
}
