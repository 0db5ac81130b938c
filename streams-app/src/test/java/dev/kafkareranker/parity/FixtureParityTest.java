package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each model family's fixture (tiny random weights, made by tools/ fixtures) scored here must equal
 * the golden scores PyTorch gave through transformers / sentence-transformers, to 1e-4 in fp32. The
 * golden pairs include pairs far longer than the maximum length (truncation) and are scored here in
 * shared batches that mix short and long pairs (padding).
 */
class FixtureParityTest {

    static final Path FIXTURES = Path.of("..", "tools", "fixtures");
    private static final ObjectMapper JSON = new ObjectMapper();

    record Pair(String query, String document, double logit, double score) {}

    static List<Pair> golden(String fixture) throws IOException {
        JsonNode root = JSON.readTree(FIXTURES.resolve(fixture).resolve("golden.json").toFile());
        int labelIndex = root.path("label_index").isNull() || root.path("label_index").isMissingNode() ? 0 : root.get("label_index").asInt();
        List<Pair> pairs = new ArrayList<>();
        for (JsonNode p : root.get("pairs")) {
            pairs.add(new Pair(p.get("query").asText(), p.get("document").asText(),
                    p.get("logits").get(labelIndex).asDouble(), p.get("score").asDouble()));
        }
        return pairs;
    }

    /** Pairs grouped by query, in the golden file's order. */
    static Map<String, List<Pair>> byQuery(List<Pair> pairs) {
        Map<String, List<Pair>> out = new LinkedHashMap<>();
        pairs.forEach(p -> out.computeIfAbsent(p.query(), q -> new ArrayList<>()).add(p));
        return out;
    }

    /** Scores every query's pairs from several threads at once, so that rows of different queries share batches. */
    static Map<Pair, Score> scoreConcurrently(InferenceEngine engine, List<Pair> pairs) throws Exception {
        Map<String, List<Pair>> groups = byQuery(pairs);
        ExecutorService pool = Executors.newFixedThreadPool(groups.size());
        try {
            Map<List<Pair>, Future<List<Score>>> futures = new LinkedHashMap<>();
            for (List<Pair> group : groups.values()) {
                futures.put(group, pool.submit(() -> engine.score(group.get(0).query(), group.stream().map(Pair::document).toList())));
            }
            Map<Pair, Score> out = new LinkedHashMap<>();
            for (Map.Entry<List<Pair>, Future<List<Score>>> e : futures.entrySet()) {
                List<Score> scores = e.getValue().get();
                for (int i = 0; i < scores.size(); i++) {
                    out.put(e.getKey().get(i), scores.get(i));
                }
            }
            return out;
        } finally {
            pool.shutdown();
        }
    }

    static InferenceOptions options() {
        // Small batches, a generous delay and no padding cap: rows of several queries, short and long, share each batch.
        return InferenceOptions.defaults().withDevice(Device.parse("cpu")).withBatch(8, 4096)
                .withMaxQueueDelay(Duration.ofMillis(50)).withMaxPaddingRatio(Double.POSITIVE_INFINITY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-cross-encoder", "roberta-lora", "xlmr-vi-legal", "xlmr-nli-3label", "llama-decoder", "bi-encoder",
            "llama-causal-lm", "llama-causal-lm-external", "qwen3-causal-lm", "gte-vi-legal"})
    void fp32ScoresMatchTheReferenceWithin1e4(String fixture) throws Exception {
        ModelSpec spec = ModelDirectory.load(FIXTURES.resolve(fixture));
        List<Pair> pairs = golden(fixture);
        try (InferenceEngine engine = Scorers.open(spec, options())) {
            Map<Pair, Score> scores = scoreConcurrently(engine, pairs);
            double worst = 0;
            double worstLogit = 0;
            for (Pair p : pairs) {
                Score s = scores.get(p);
                assertEquals(p.score(), s.score(), 1e-4, fixture + ": " + p.query() + " / " + abbreviate(p.document()));
                assertEquals(p.logit(), s.logit(), 1e-4, fixture + " logit: " + p.query() + " / " + abbreviate(p.document()));
                worst = Math.max(worst, Math.abs(p.score() - s.score()));
                worstLogit = Math.max(worstLogit, Math.abs(p.logit() - s.logit()));
            }
            if (!fixture.equals("xlmr-vi-legal")) {
                // (That fixture's golden pairs all reach its 48-token cap, so none is padded.)
                assertTrue(engine.stats().paddedTokens() > engine.stats().realTokens(), "batches mixed lengths, so padding was exercised");
            }
            assertTrue(engine.stats().batches() < engine.stats().rows(), "rows were batched");
            System.out.printf("parity %s: %d pairs, max |score - golden| = %.2e, max |logit - golden| = %.2e, %d batches%n",
                    fixture, pairs.size(), worst, worstLogit, engine.stats().batches());
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }
}
