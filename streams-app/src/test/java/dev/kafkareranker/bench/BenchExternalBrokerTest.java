package dev.kafkareranker.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.app.EmbeddedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/**
 * The bench end to end on a tiny workload, its pipeline phases against a broker it did not start
 * ({@code --bootstrap}): every phase reports, the named ratios are in the JSON, and the broker keeps the
 * bench's own fresh topics. Figures are not judged: this machine is shared, and that is the bench's job.
 */
class BenchExternalBrokerTest {

    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");

    @Test
    void aSmallBenchAgainstAnExternalBrokerReportsEveryPhaseAndTheNamedRatios() throws Exception {
        Path report = Files.createTempFile("bench-report", ".json");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (EmbeddedKafka broker = EmbeddedKafka.start()) {
            BenchCommand.Settings settings = new BenchCommand.Settings(3, 4, 2, 7, Optional.of(report),
                    Map.of("model.dir", FIXTURE.toString(), "inference.device", "cpu"), Optional.of(broker.bootstrapServers()),
                    Optional.empty(), Optional.empty(), 60);
            assertEquals(0, new BenchCommand(new PrintStream(printed, true, StandardCharsets.UTF_8)).run(settings));
            assertEquals(broker.bootstrapServers(), new ObjectMapper().readTree(report.toFile()).get("broker").asText());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                Set<String> topics = admin.listTopics().names().get();
                assertTrue(topics.stream().anyMatch(t -> t.startsWith("bench-pipeline-") && t.endsWith("-candidates")), topics.toString());
                assertTrue(topics.stream().anyMatch(t -> t.startsWith("bench-feed-") && t.endsWith("-results")), topics.toString());
                assertTrue(topics.stream().anyMatch(t -> t.startsWith("bench-pipeline-") && t.endsWith("-hop-sink")), topics.toString());
            }
        }
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        for (String phase : new String[] {"raw", "engine", "pipeline", "feed_engine", "feed", "tokenizer"}) {
            assertTrue(json.get(phase).get("pairs_per_second").asDouble() > 0, phase + ": " + json.get(phase));
        }
        assertEquals(12, json.get("pipeline").get("pairs").asInt(), "every pair of the 3 x 4 workload was scored");
        for (String ratio : new String[] {"pipeline_over_raw", "feed_over_tokenizer", "feed_engine_over_tokenizer"}) {
            assertTrue(json.get(ratio).asDouble() > 0, ratio + " in " + json);
        }
        assertEquals(60, json.get("latency").get("queries").asInt(), "--latency-queries sets how many queries (d) sends: " + json.get("latency"));
        // The floor under (d) was measured: a failed hop is reported as NaN (a string in the JSON) and said so in the
        // output, and a hop through a transaction and a read_committed reader takes some time, never none.
        String output = printed.toString(StandardCharsets.UTF_8);
        assertFalse(output.contains("hop alone failed"), output);
        for (String figure : new String[] {"exactly_once_hop_ms", "added_ms", "last_candidate_to_result_ms"}) {
            JsonNode p = json.get("latency").get(figure);
            assertTrue(p.get("p50").isNumber() && p.get("p99").isNumber() && p.get("max").isNumber(), figure + ": " + p);
            assertTrue(p.get("p50").asDouble() <= p.get("p99").asDouble() && p.get("p99").asDouble() <= p.get("max").asDouble(),
                    figure + ": " + p);
        }
        assertTrue(json.get("latency").get("exactly_once_hop_ms").get("p50").asDouble() > 0, json.get("latency").toString());
        assertTrue(output.contains("feed_over_tokenizer"), output);
    }
}
