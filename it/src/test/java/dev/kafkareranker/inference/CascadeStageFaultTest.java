package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.it.Await;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serde.AvroDeserializer;
import dev.kafkareranker.serde.AvroSerializer;
import dev.kafkareranker.serving.ModelRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * A cascade's first stage failing on a real broker: the BERT cross-encoder fixture (first stage) behind a fake device
 * fault around its real ONNX session (what a CUDA error does, which a CPU cannot be made to do), the LLaMA causal-LM
 * fixture after it for the top 2. While the first stage fails, its queries and the cascade's wait (no dead letters);
 * once it recovers, each comes out once with every candidate, and the expensive model has run the top 2 of each
 * cascade query once: never after a failed first stage.
 */
class CascadeStageFaultTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures").toAbsolutePath();
    private static final Duration PATIENCE = Duration.ofMinutes(3);
    private static final int TOP_N = 2;
    private static final int CASCADE_QUERIES = 3;
    private static final int PER_QUERY = 4;

    /** Every model call of the first stage fails while set, as after a CUDA fault until the device is reset. */
    private static final class DeviceFault implements RowModel {
        private final RowModel real;
        private final AtomicInteger failed;
        private final java.util.concurrent.atomic.AtomicBoolean failing;

        DeviceFault(RowModel real, java.util.concurrent.atomic.AtomicBoolean failing, AtomicInteger failed) {
            this.real = real;
            this.failing = failing;
            this.failed = failed;
        }

        @Override
        public float[][] run(List<Encoded> rows) {
            if (failing.get()) {
                failed.incrementAndGet();
                throw new InferenceException("injected: CUDA error: an illegal memory access was encountered", new RuntimeException());
            }
            return real.run(rows);
        }

        @Override
        public void cancelRunning() {
            real.cancelRunning();
        }

        @Override
        public void close() {
            real.close();
        }
    }

    @Test
    void aFailingFirstStageHoldsItsQueriesBackAndEachComesOutOnceWhenItRecovers() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String prefix = "cascade-fault-" + run;
        String registry = "mock://" + prefix;
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        AtomicInteger failed = new AtomicInteger();
        // Each model opened as ModelRegistry opens it (its directory with the app's overrides); the first stage behind the fault.
        Function<ModelRegistry.Served, Scorer> loader = served -> served.name().equals("ce")
                ? Scorers.open(ModelDirectory.load(served.dir(), served.overrides()), served.options(),
                        real -> new DeviceFault(real, failing, failed))
                : ModelRegistry.load(served);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(2, prefix + ".candidates", prefix + ".results", prefix + ".dlq");
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", kafka.bootstrapServers());
            props.put("schema.registry.url", registry);
            props.put("application.id", "it-" + prefix);
            props.put(RerankerConfig.ADMIN_PORT, "-1");
            props.put("state.dir", Files.createTempDirectory(prefix + "-state").toString());
            props.put(RerankerConfig.TOPIC_CANDIDATES, prefix + ".candidates");
            props.put(RerankerConfig.TOPIC_RESULTS, prefix + ".results");
            props.put(RerankerConfig.TOPIC_DEAD_LETTERS, prefix + ".dlq");
            // Long: no query may go out incomplete while the first stage is down; this test is about the stage.
            props.put(RerankerConfig.GATHER_MAX_WAIT_MS, "120000");
            props.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
            props.put(RerankerConfig.INFERENCE_BREAKER_BACKOFF_MS, "500");
            props.put("models", "ce,llm");
            props.put("model.default", "llm");
            props.put("model.ce.dir", FIXTURES.resolve("bert-cross-encoder").toString());
            props.put("model.llm.dir", FIXTURES.resolve("llama-causal-lm").toString());
            props.put("model.llm.first.stage", "ce");
            props.put("model.llm.first.stage.top.n", String.valueOf(TOP_N));

            try (RerankerApp app = RerankerApp.create(new RerankerConfig(props), loader)) {
                app.start();
                Await.until("the app running", PATIENCE, () -> app.streams().state() == KafkaStreams.State.RUNNING);
                Set<String> sent = new HashSet<>();
                List<RetrievalCandidate> candidates = new ArrayList<>();
                for (int q = 0; q < CASCADE_QUERIES + 1; q++) {
                    // The last query is the first stage's own (model ce), which waits for it as well.
                    String queryId = q < CASCADE_QUERIES ? "cascade-" + q : "ce-only";
                    for (int d = 0; d < PER_QUERY; d++) {
                        candidates.add(RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery("does aspirin lower heart risk")
                                .setDocId(queryId + "-d" + d).setText("aspirin and the heart, passage " + d + " of " + queryId)
                                .setCandidateCount(PER_QUERY).setModel(q < CASCADE_QUERIES ? "llm" : "ce").setMetadata(Map.of()).build());
                        sent.add(queryId + "-d" + d);
                    }
                }
                produce(kafka.bootstrapServers(), registry, prefix + ".candidates", candidates);
                // The first stage has failed, its probe too: its breaker opens and the queries wait in the store.
                Await.until("the first stage's calls failing", PATIENCE, () -> failed.get() >= 2);
                failing.set(false);

                Map<String, Integer> resultsPerQuery = new HashMap<>();
                Set<String> inResults = new HashSet<>();
                List<String> twice = new ArrayList<>();
                Map<String, RankedResults> results = readResults(kafka.bootstrapServers(), registry, prefix + ".results", CASCADE_QUERIES + 1,
                        resultsPerQuery);
                results.values().forEach(r -> r.getResults().forEach(d -> {
                    if (!inResults.add(d.getDocId())) {
                        twice.add(d.getDocId());
                    }
                }));
                int deadLetters = count(kafka.bootstrapServers(), prefix + ".dlq");
                long expensiveRows = ((InferenceEngine) app.models().slot("llm").currentScorer()).stats().rows();
                System.out.printf("cascade-fault: candidates in=%d, in results=%d, twice=%d, dead letters=%d; first-stage calls failed %d;"
                        + " expensive model rows %d%n", sent.size(), inResults.size(), twice.size(), deadLetters, failed.get(), expensiveRows);

                assertEquals(sent, inResults, "every candidate in a result");
                assertEquals(List.of(), twice, "no candidate twice");
                resultsPerQuery.forEach((q, n) -> assertEquals(1, n, "one result for " + q));
                assertEquals(0, deadLetters, "a device fault is the model's, not the candidates': no dead letters");
                for (int q = 0; q < CASCADE_QUERIES; q++) {
                    List<String> stages = results.get("cascade-" + q).getResults().stream().map(RankedDocument::getStage).toList();
                    assertEquals(List.of("llm", "llm", "ce", "ce"), stages, "cascade-" + q);
                }
                assertEquals((long) CASCADE_QUERIES * TOP_N, expensiveRows,
                        "the model ran each cascade query's top " + TOP_N + " once, and never after a failed first stage");
            }
        }
    }

    private static void produce(String bootstrap, String registry, String topic, List<RetrievalCandidate> candidates) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", registry), false);
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                new StringSerializer(), serializer)) {
            candidates.forEach(c -> producer.send(new ProducerRecord<>(topic, c.getQueryId(), c)));
        }
    }

    /** Reads until every query has a result, then 3 s more, where a duplicate would show; PATIENCE bounds a hang. */
    private static Map<String, RankedResults> readResults(String bootstrap, String registry, String topic, int queries,
                                                         Map<String, Integer> perQuery) {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", registry, "specific.avro.reader", true), false);
        Map<String, RankedResults> results = new HashMap<>();
        try (KafkaConsumer<String, RankedResults> consumer = new KafkaConsumer<>(consumerProps(bootstrap), new StringDeserializer(),
                deserializer)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            long quietUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, quietUntil)) {
                for (ConsumerRecord<String, RankedResults> r : consumer.poll(Duration.ofMillis(200))) {
                    perQuery.merge(r.value().getQueryId(), 1, Integer::sum);
                    results.put(r.value().getQueryId(), r.value());
                }
                if (results.size() >= queries && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                }
            }
        }
        assertEquals(queries, results.size(), "results for every query within " + PATIENCE + ": " + results.keySet());
        return results;
    }

    private static int count(String bootstrap, String topic) {
        int n = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(bootstrap), new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < until) {
                n += consumer.poll(Duration.ofMillis(200)).count();
            }
        }
        return n;
    }

    private static Map<String, Object> consumerProps(String bootstrap) {
        return Map.of("bootstrap.servers", bootstrap, "group.id", "reader-" + UUID.randomUUID(), "auto.offset.reset", "earliest",
                "isolation.level", "read_committed");
    }
}
