package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's own-broker path, as a newcomer runs it, in four child processes and no Docker: {@code broker},
 * {@code run --config} with the file broker wrote, {@code produce} of the README's example, and
 * {@code consume --max 1}, which must print the ranked result while run keeps running. Only the ports (free
 * ones, as 9092 and 8081 may be taken on a shared machine), the file's place and the admin port differ from the
 * README's lines. How soon the result comes is printed, not asserted: on a shared 2-core machine it is a figure of
 * the load (a 60 s bound failed at load 29), so the deadlines here only stop a hang; the time to a first result
 * belongs in the README's figures, measured with bench.
 */
class NewcomerPathTest {

    private static final Pattern README_EXAMPLE = Pattern.compile("^echo '(\\{.*\\})' \\| bin/reranker produce", Pattern.MULTILINE);
    /** Only against a hang: run loads a model and joins a group, consume joins its own, on a machine others load. */
    private static final Duration HANG = Duration.ofMinutes(4);

    @TempDir
    Path dir;

    @Test
    void brokerRunProduceConsumePrintsTheRankedResult() throws Exception {
        Matcher example = README_EXAMPLE.matcher(Files.readString(Path.of("..", "README.md")));
        assertTrue(example.find(), "README.md has the produce example: echo '{...}' | bin/reranker produce ...");
        String line = example.group(1);
        Path config = dir.resolve("reranker-dev.properties");
        List<String> withConfig = List.of("--config", config.toString());
        try (MainProcess broker = MainProcess.start(dir, "broker", List.of("broker", "--port", String.valueOf(MainProcess.freePort()),
                "--registry-port", String.valueOf(MainProcess.freePort()), "--config-out", config.toString()), Map.of(), null)) {
            broker.awaitStdoutLine("broker: running", Duration.ofMinutes(3));
            assertTrue(broker.describe().contains("FOR DEVELOPMENT ONLY"), "the banner says the registry is for development");
            assertTrue(broker.stderrLines().stream().noneMatch(l -> l.contains(" WARN ")), "the broker starts quietly: " + broker.describe());

            try (MainProcess run = MainProcess.start(dir, "run", concat(List.of("run"), withConfig), Map.of("RERANKER_ADMIN_PORT", "0"), null)) {
                MainProcess produce = MainProcess.start(dir, "produce", concat(List.of("produce"), withConfig), Map.of(), line);
                assertEquals(0, produce.awaitExit(HANG), produce.describe());
                double produceSeconds = produce.seconds();
                JsonNode sent = new ObjectMapper().readTree(produce.stdoutLines().get(0));
                assertEquals(2, sent.get("candidates").asInt(), produce.describe());

                MainProcess consume = MainProcess.start(dir, "consume", concat(List.of("consume"), concat(withConfig, List.of("--max", "1"))),
                        Map.of(), null);
                assertEquals(0, consume.awaitExit(HANG), consume.describe() + run.describe());
                double sinceRunStart = (System.nanoTime() - run.startNanos()) / 1e9;
                System.out.printf("newcomer path: produce %.1f s, result read %.1f s after run started%n", produceSeconds, sinceRunStart);

                List<String> printed = consume.stdoutLines();
                assertEquals(1, printed.size(), consume.describe());
                JsonNode result = new ObjectMapper().readTree(printed.get(0));
                assertEquals(sent.get("query_id").asText(), result.get("query_id").asText());
                assertTrue(result.get("complete").asBoolean());
                JsonNode ranked = result.get("results");
                assertEquals(2, ranked.size());
                assertEquals(1, ranked.get(0).get("rank").asInt());
                assertEquals("d1", ranked.get(0).get("doc_id").asText(), "'Cats purr when content.' answers 'why do cats purr': " + result);
                assertTrue(ranked.get(0).get("score").asDouble() > ranked.get(1).get("score").asDouble(), result.toString());
                assertTrue(run.alive(), "run is still running after serving the result: " + run.describe());
                assertTrue(run.stderrLines().stream().noneMatch(l -> l.contains(" ERROR ")), "run logged no error: " + run.describe());
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
