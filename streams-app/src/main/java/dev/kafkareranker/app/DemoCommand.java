package dev.kafkareranker.app;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.serde.AvroDeserializer;
import dev.kafkareranker.serde.AvroSerializer;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code reranker demo}: a real KRaft broker in this JVM, the in-process registry and the bundled
 * model; produces the sample candidates, runs the pipeline, prints each query's top results and one
 * summary line.
 */
final class DemoCommand {

    private static final String REGISTRY = "mock://reranker-demo";
    private static final Duration RESULT_TIMEOUT = Duration.ofMinutes(3);

    private final PrintStream out;

    DemoCommand(PrintStream out) {
        this.out = out;
    }

    int run(Map<String, String> overrides) throws Exception {
        long start = System.nanoTime();
        List<RetrievalCandidate> candidates = SampleData.candidates();
        long queries = candidates.stream().map(RetrievalCandidate::getQueryId).distinct().count();
        Topics topics = Topics.defaults();
        // Under the user's cache, not the OS temp directory Kafka Streams warns about, and removed at the end.
        java.nio.file.Path stateDir = UserCache.scratch("demo-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(2, topics.candidates(), topics.results(), topics.deadLetters());
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", kafka.bootstrapServers());
            props.put("schema.registry.url", REGISTRY);
            props.put("application.id", "reranker-demo");
            // Any free port: the demo must not fail because something else holds 8080.
            props.put(RerankerConfig.ADMIN_PORT, "0");
            props.put("state.dir", stateDir.toString());
            props.put(RerankerConfig.GATHER_MAX_WAIT_MS, "5000");
            props.putAll(overrides);
            RerankerConfig config = new RerankerConfig(props);
            try (RerankerApp app = RerankerApp.create(config)) {
                app.start();
                produce(kafka.bootstrapServers(), topics, candidates);
                Map<String, RankedResults> results = awaitResults(kafka, topics, queries);
                int deadLetters = countDeadLetters(kafka, topics);
                print(results);
                long scoringMs = results.values().stream().mapToLong(RankedResults::getScoringMs).sum();
                long scored = results.values().stream().mapToLong(RankedResults::getCandidatesReceived).sum();
                out.printf(Locale.ROOT, "demo: scored %d pairs in %d ms of model time (%.1f pairs/s)%n",
                        scored, scoringMs, scoringMs == 0 ? 0.0 : scored * 1000.0 / scoringMs);
                out.printf(Locale.ROOT, "demo: queries=%d candidates=%d results=%d dead_letters=%d seconds=%.1f%n",
                        queries, candidates.size(), results.size(), deadLetters, (System.nanoTime() - start) / 1e9);
                return results.size() == queries && deadLetters == 0 ? 0 : 1;
            }
        } finally {
            UserCache.deleteTree(stateDir);
        }
    }

    private static void produce(String bootstrap, Topics topics, List<RetrievalCandidate> candidates) {
        Map<String, Object> props = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(props, new StringSerializer(), serializer())) {
            for (RetrievalCandidate c : candidates) {
                // The last query arrives keyed by doc_id, as some retrievers send it: the pipeline re-keys it.
                String key = c.getQueryId().equals("q6") ? c.getDocId() : c.getQueryId();
                producer.send(new ProducerRecord<>(topics.candidates(), key, c));
            }
            producer.flush();
        }
    }

    private static AvroSerializer<RetrievalCandidate> serializer() {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", REGISTRY), false);
        return serializer;
    }

    private static Map<String, RankedResults> awaitResults(EmbeddedKafka kafka, Topics topics, long expected) {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", REGISTRY, "specific.avro.reader", true), false);
        Map<String, RankedResults> results = new TreeMap<>();
        try (KafkaConsumer<String, RankedResults> consumer = new KafkaConsumer<>(kafka.readCommittedConsumerProps("demo-results"),
                new StringDeserializer(), deserializer)) {
            consumer.subscribe(List.of(topics.results()));
            long deadline = System.nanoTime() + RESULT_TIMEOUT.toNanos();
            while (results.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, RankedResults> r : consumer.poll(Duration.ofMillis(200))) {
                    results.put(r.key(), r.value());
                }
            }
        }
        return results;
    }

    private static int countDeadLetters(EmbeddedKafka kafka, Topics topics) {
        int count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.readCommittedConsumerProps("demo-dead-letters"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topics.deadLetters()));
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < deadline) {
                count += consumer.poll(Duration.ofMillis(200)).count();
            }
        }
        return count;
    }

    private void print(Map<String, RankedResults> results) {
        Map<String, String> texts = new HashMap<>();
        for (RetrievalCandidate c : SampleData.candidates()) {
            texts.put(c.getDocId(), c.getText());
        }
        for (RankedResults r : results.values()) {
            out.printf(Locale.ROOT, "%s  %s  [%s, %d candidates, %d ms, model %s]%n", r.getQueryId(), r.getQuery(),
                    r.getComplete() ? "complete" : "incomplete", r.getCandidatesReceived(), r.getScoringMs(), r.getModel().getName());
            for (RankedDocument d : r.getResults().subList(0, Math.min(3, r.getResults().size()))) {
                String text = texts.getOrDefault(d.getDocId(), "");
                out.printf(Locale.ROOT, "   %d. %-4s %.4f  (retrieval rank %s)  %s%n", d.getRank(), d.getDocId(), d.getScore(),
                        d.getRetrievalRank(), text.length() > 90 ? text.substring(0, 87) + "..." : text);
            }
        }
    }
}
