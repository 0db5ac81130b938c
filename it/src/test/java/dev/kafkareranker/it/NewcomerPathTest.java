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
 * {@code consume --max 1}, which must print the ranked result within 60 s of run starting. Only the ports (free
 * ones, as 9092 and 8081 may be taken on a shared machine), the file's place and the admin port differ from the
 * README's lines.
 */
class NewcomerPathTest {

    private static final Pattern README_EXAMPLE = Pattern.compile("^echo '(\\{.*\\})' \\| bin/reranker produce", Pattern.MULTILINE);
    private static final Duration RESULT_WITHIN = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void brokerRunProduceConsumePrintsTheRankedResultWithinAMinuteOfRunStarting() throws Exception {
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
                assertEquals(0, produce.awaitExit(Duration.ofMinutes(2)), produce.describe());
                double produceSeconds = produce.seconds();
                JsonNode sent = new ObjectMapper().readTree(produce.stdoutLines().get(0));
                assertEquals(2, sent.get("candidates").asInt(), produce.describe());

                MainProcess consume = MainProcess.start(dir, "consume", concat(List.of("consume"), concat(withConfig, List.of("--max", "1"))),
                        Map.of(), null);
                // The bound is the acceptance figure, measured from run's start; awaitExit's deadline only stops a hang.
                assertEquals(0, consume.awaitExit(Duration.ofMinutes(4)), consume.describe() + run.describe());
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
                assertTrue(sinceRunStart < RESULT_WITHIN.toSeconds(), "the result came " + sinceRunStart + " s after run started");
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
