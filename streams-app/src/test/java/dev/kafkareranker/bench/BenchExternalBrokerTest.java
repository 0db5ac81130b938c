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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The bench end to end on a tiny workload, its pipeline phases against a broker it did not start
 * ({@code --bootstrap}): every phase reports, the named ratios are in the JSON, and the broker keeps the
 * bench's own fresh topics. Figures are not judged: this machine is shared, and that is the bench's job.
 */
class BenchExternalBrokerTest {

    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
    private static final int LATENCY_QUERIES = 60;

    @Test
    void aSmallBenchAgainstAnExternalBrokerReportsEveryPhaseAndTheNamedRatios() throws Exception {
        Path report = Files.createTempFile("bench-report", ".json");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (EmbeddedKafka broker = EmbeddedKafka.start()) {
            BenchCommand.Settings settings = new BenchCommand.Settings(3, 4, 2, 7, Optional.of(report),
                    Map.of("model.dir", FIXTURE.toString(), "inference.device", "cpu"), Optional.of(broker.bootstrapServers()),
                    Optional.empty(), Optional.empty(), LATENCY_QUERIES);
            assertEquals(0, new BenchCommand(new PrintStream(printed, true, StandardCharsets.UTF_8)).run(settings));
            assertEquals(broker.bootstrapServers(), new ObjectMapper().readTree(report.toFile()).get("broker").asText());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                Set<String> topics = admin.listTopics().names().get();
                assertTrue(topics.stream().anyMatch(t -> t.startsWith("bench-pipeline-") && t.endsWith("-candidates")), topics.toString());
                assertTrue(topics.stream().anyMatch(t -> t.startsWith("bench-feed-") && t.endsWith("-results")), topics.toString());
                String hopSink = topics.stream().filter(t -> t.startsWith("bench-pipeline-") && t.endsWith("-hop-sink")).findFirst()
                        .orElseThrow(() -> new AssertionError("no hop sink among " + topics));
                // The hop ran for real: one committed transaction per hop, the untimed first tenth (at least 5) and then one
                // per latency query, each record readable by a read_committed reader, none twice.
                assertEquals(hopValues(LATENCY_QUERIES + Math.max(5, LATENCY_QUERIES / 10)), committedValues(broker, hopSink),
                        "the exactly-once hop's records in " + hopSink);
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
        assertEquals(LATENCY_QUERIES, json.get("latency").get("queries").asInt(), "--latency-queries sets how many queries (d) sends: " + json.get("latency"));
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

    private static List<String> hopValues(int hops) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < hops; i++) {
            values.add(Integer.toString(i));
        }
        return values;
    }

    /** Every committed record's value on {@code topic}'s one partition, read to its end (the last stable offset). */
    private static List<String> committedValues(EmbeddedKafka broker, String topic) {
        List<String> values = new ArrayList<>();
        TopicPartition partition = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(Map.of("bootstrap.servers", broker.bootstrapServers(),
                "isolation.level", "read_committed"), new StringDeserializer(), new StringDeserializer())) {
            reader.assign(List.of(partition));
            reader.seekToBeginning(List.of(partition));
            long end = reader.endOffsets(List.of(partition)).get(partition);
            // Bounded only against a hang: the hop's transactions committed before the bench returned.
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (reader.position(partition) < end && System.nanoTime() < deadline) {
                reader.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }
}
