package dev.kafkareranker.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bench's near-zero-cost model (phase e) keeps the serving contract: it loads and scores like the model it stands in for. */
class FeedCapacityModelTest {

    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");

    @Test
    void theNullModelTakesTheFixturesTokenizerAndScoresEveryPairThroughTheRealEngine() throws Exception {
        ModelSpec fixture = ModelDirectory.load(FIXTURE);
        Path dir = FeedModel.of(FIXTURE, fixture, new PrintStream(new ByteArrayOutputStream())).orElseThrow();
        assertTrue(Files.size(dir.resolve("model.onnx")) < 4096, "a graph of two nodes, not the fixture's weights");
        assertFalse(Files.exists(dir.resolve("model.int8.onnx")), "no variant of the real model is left to be picked instead");
        ModelSpec spec = ModelDirectory.load(dir);
        assertEquals(fixture.name(), spec.name());
        try (InferenceEngine engine = Scorers.open(spec, InferenceOptions.defaults().withDevice(dev.kafkareranker.inference.Device.parse("cpu")))) {
            List<Score> scores = engine.score("what causes anemia", List.of("iron deficiency", "a much longer passage about blood and iron", "x"));
            // logits = the row's largest mask value: 1 for every real row, whatever its length.
            assertArrayEquals(new double[] {1, 1, 1}, scores.stream().mapToDouble(Score::logit).toArray(), 0.0);
        }
    }

    @Test
    void topTenIsTheIndicesOfTheHighestScoresInOrder() {
        assertArrayEquals(new int[] {2, 0, 1}, Int8Agreement.top(new double[] {0.5, 0.1, 0.9}, 10));
        assertArrayEquals(new int[] {3, 1}, Int8Agreement.top(new double[] {0, 2, 1, 3}, 2));
    }
}
