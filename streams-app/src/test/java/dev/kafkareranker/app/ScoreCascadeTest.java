package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code reranker score} when the model to score with has a first stage (the BERT cross-encoder fixture before the
 * LLaMA causal-LM fixture, top 2): both load, the line's documents are scored as the pipeline scores a query, and
 * each output line says which stage ranked it, the first stage's score and what of the passage was read.
 */
class ScoreCascadeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DOCUMENTS = List.of(
            "Aspirin lowers the risk of a second heart attack.",
            "The seasons are caused by the tilt of the earth's axis.",
            "Low doses of aspirin are given after a heart attack.",
            "Kafka transactions commit offsets and results together.",
            "Bleeding is the main risk of daily aspirin.");

    @Test
    void eachLineSaysItsStageAndFirstStageScoreAndTheModelScoresOnlyTheTopN() throws Exception {
        Map<String, Object> props = Map.of("models", "ce,llm", "model.default", "llm", "inference.device", "cpu",
                "model.ce.dir", "../tools/fixtures/bert-cross-encoder", "model.llm.dir", "../tools/fixtures/llama-causal-lm",
                "model.llm.first.stage", "ce", "model.llm.first.stage.top.n", "2");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String line = JSON.writeValueAsString(Map.of("query", "does aspirin lower the risk of heart attack", "documents", DOCUMENTS));
        int code = new ScoreCommand(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(new RerankerConfig(props), new BufferedReader(new StringReader(line + "\n")));
        assertEquals(0, code);

        List<JsonNode> rows = new ArrayList<>();
        for (String l : out.toString(StandardCharsets.UTF_8).strip().split("\n")) {
            rows.add(JSON.readTree(l));
        }
        assertEquals(DOCUMENTS.size(), rows.size(), "one line per document, in the order given");
        for (int i = 0; i < rows.size(); i++) {
            JsonNode row = rows.get(i);
            assertEquals(DOCUMENTS.get(i), row.get("document").asText());
            assertEquals("llm", row.get("model").asText());
            assertTrue(row.has("first_stage_score") && row.has("tokens_scored") && row.has("chunks") && row.has("best_chunk_end"), row.toString());
        }
        List<JsonNode> promoted = rows.stream().filter(r -> r.get("stage").asText().equals("llm")).toList();
        List<JsonNode> firstOnly = rows.stream().filter(r -> r.get("stage").asText().equals("ce")).toList();
        assertEquals(2, promoted.size(), rows.toString());
        assertEquals(3, firstOnly.size(), rows.toString());
        double lowestPromoted = promoted.stream().mapToDouble(r -> r.get("first_stage_score").asDouble()).min().orElseThrow();
        for (JsonNode r : firstOnly) {
            assertTrue(r.get("first_stage_score").asDouble() <= lowestPromoted, "the model scored the first stage's best 2: " + rows);
            assertEquals(r.get("first_stage_score").asDouble(), r.get("score").asDouble(), 0.0, "a first-stage line keeps its score");
        }
        String report = err.toString(StandardCharsets.UTF_8);
        assertTrue(report.contains("ce ran 5 rows") && report.contains("llm ran 2 rows"), report);
    }
}
