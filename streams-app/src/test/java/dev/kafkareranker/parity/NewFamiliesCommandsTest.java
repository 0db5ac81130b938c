package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.app.Main;
import dev.kafkareranker.eval.EvalOptions;
import dev.kafkareranker.eval.EvalReport;
import dev.kafkareranker.eval.EvalRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The commands a user runs on the new families' fixtures: {@code reranker score --model-dir} (a real
 * process, as bin/reranker starts it) gives the golden scores, and {@code eval} runs a causal LM
 * through the whole pipeline.
 */
class NewFamiliesCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Surefire runs in streams-app/: the shared data beside the repository (as MedEvalTest reads it). */
    private static final Path MED = Path.of("..", "..", "shared", "data", "med");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama-causal-lm", "qwen3-causal-lm", "gte-vi-legal"})
    void scoreWithModelDirGivesTheGoldenScores(String fixture) throws Exception {
        List<FixtureParityTest.Pair> golden = FixtureParityTest.golden(fixture).subList(0, 4);
        StringBuilder input = new StringBuilder();
        for (FixtureParityTest.Pair p : golden) {
            input.append(JSON.writeValueAsString(Map.of("query", p.query(), "document", p.document()))).append('\n');
        }
        Path pairs = Files.writeString(tmp.resolve("pairs.jsonl"), input);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "score", "--device", "cpu", "--model-dir", FixtureParityTest.FIXTURES.resolve(fixture).toString(), pairs.toString()));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("{")).toList();
        assertEquals(golden.size(), lines.size(), out);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode row = JSON.readTree(lines.get(i));
            assertEquals(golden.get(i).score(), row.get("score").asDouble(), 1e-4, fixture + " line " + (i + 1));
            assertEquals(golden.get(i).logit(), row.get("logit").asDouble(), 1e-4, fixture + " line " + (i + 1));
        }
    }

    @Test
    void evalRunsACausalLmThroughThePipeline() throws Exception {
        assertTrue(Files.isRegularFile(MED.resolve("MED.ALL")), "the MED collection is not at " + MED.toAbsolutePath().normalize());
        int k = 5;
        int queries = 3;
        EvalOptions options = new EvalOptions(MED, Optional.empty(), k,
                Optional.of(FixtureParityTest.FIXTURES.resolve("qwen3-causal-lm")), queries);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        EvalReport report = new EvalRun(options, Map.of("RERANKER_INFERENCE_DEVICE", "cpu"),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run();
        assertTrue(report.model().contains("qwen3-causal-lm"), report.model());
        assertEquals(queries, report.queries());
        assertEquals(0, report.incomplete());
        assertEquals((long) queries * k, report.pairsScored());
    }
}
