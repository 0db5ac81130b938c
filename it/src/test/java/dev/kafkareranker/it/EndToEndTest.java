package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.serde.AvroSerializer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline on a real broker (Testcontainers' when Docker is present, else a KRaft broker in this JVM),
 * a bi-encoder and the wire-format serde: Q queries with N candidates in, exactly Q results out for a
 * read_committed consumer, holding all N.
 */
class EndToEndTest {

    private static final int QUERIES = 12;
    private static final String[] WORDS = ("the seasons are caused by tilt of earth axis vaccines train immune system"
            + " cells antibodies kafka transactions commit offsets exactly once iron deficiency anemia fatigue cats purr"
            + " larynx gpu latency batching half precision").split(" ");

    /** fp32, so scores are exact whatever the batching; see checkScoresAgainstTheModelDirectly. */
    private static final Path BI_ENCODER = TestApp.BI_ENCODER;

    private static TestCluster kafka;

    @BeforeAll
    static void startBroker() {
        kafka = TestCluster.start("it-e2e");
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @Test
    void everyCandidateLeavesInExactlyOneResultPerQueryOrAsADeadLetter() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String registry = kafka.registryUrl();
        TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry, "e2e-" + run).topics(3, 3).applicationId("it-" + run)
                .model(TestApp.BI_ENCODER).adminEndpoint()
                .set(RerankerConfig.GATHER_MAX_WAIT_MS, 20_000)
                .set("num.stream.threads", 2);
        Topics topics = setup.topics();

        Random random = new Random(7);
        List<RetrievalCandidate> candidates = new ArrayList<>();
        for (int q = 0; q < QUERIES; q++) {
            int count = 3 + random.nextInt(10);
            for (int d = 0; d < count; d++) {
                candidates.add(RetrievalCandidate.newBuilder()
                        .setQueryId("q" + q)
                        .setQuery(sentence(random, 5))
                        .setDocId("q" + q + "-d" + d)
                        .setText(sentence(random, 5 + random.nextInt(60)))
                        .setRetrievalRank(d + 1)
                        .setCandidateCount(count)
                        .setTopK(0)
                        .setMetadata(Map.of())
                        .build());
            }
        }
        // All candidates of a query share its first text as query, as a retriever sends them.
        Map<String, String> queryText = new HashMap<>();
        for (RetrievalCandidate c : candidates) {
            queryText.putIfAbsent(c.getQueryId(), c.getQuery());
            c.setQuery(queryText.get(c.getQueryId()));
        }

        try (RerankerApp app = setup.start();
             ResultWatcher watcher = new ResultWatcher(setup.pipeline())) {
            produce(topics, registry, candidates);
            produceCorrupt(topics);

            // Every query's result and the corrupt record's dead letter, then to the end of both topics once the app has
            // processed all it was sent: a second result or another dead letter would be read there.
            watcher.awaitQueries(QUERIES, Duration.ofMinutes(2));
            watcher.awaitDeadLetters(1, Duration.ofMinutes(2));
            Ledger.toTheEnd(watcher, setup.pipeline(), Duration.ofMinutes(2));
            Map<String, RankedResults> results = watcher.results;
            int resultRecords = watcher.count();
            List<ConsumerRecord<byte[], byte[]>> deadLetters = watcher.deadLetterRecords();

            assertEquals(QUERIES, resultRecords, "exactly one result record per query");
            assertEquals(QUERIES, results.size());
            Set<String> scored = new HashSet<>();
            for (RankedResults r : results.values()) {
                assertTrue(r.getComplete(), r.getQueryId());
                for (RankedDocument d : r.getResults()) {
                    assertTrue(scored.add(d.getDocId()), "document twice: " + d.getDocId());
                }
            }
            Set<String> produced = new HashSet<>();
            candidates.forEach(c -> produced.add(c.getDocId()));
            assertEquals(produced, scored, "the results hold every candidate");

            assertEquals(1, deadLetters.size(), "the corrupt record, and nothing else, is a dead letter");
            ConsumerRecord<byte[], byte[]> dead = deadLetters.get(0);
            assertEquals("garbage", new String(dead.value(), StandardCharsets.UTF_8));
            Header message = dead.headers().lastHeader("__streams.errors.message");
            assertNotNull(message, "the built-in dead-letter queue says why");
            assertTrue(new String(message.value(), StandardCharsets.UTF_8).contains("magic byte"));
            System.out.printf("it: candidates in=%d (+1 corrupt), results=%d holding %d, dead letters=%d%n",
                    candidates.size(), results.size(), scored.size(), deadLetters.size());

            checkScoresAgainstTheModelDirectly(results, candidates);
            checkTheAdminEndpoint(app.adminPort(), candidates.size());
        }
    }

    /** The metrics scraped during the run name what happened, and health says ready. */
    private static void checkTheAdminEndpoint(int port, int pairs) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(value(metrics, "rerank_pairs_scored_total{") >= pairs, "pairs scored");
        assertTrue(value(metrics, "rerank_queries_total{") >= QUERIES, "queries");
        assertTrue(value(metrics, "rerank_engine_batches_total{") > 0, "batches");
        assertTrue(value(metrics, "rerank_engine_rows_total{") > pairs, "rows (a bi-encoder also embeds each query)");
        assertTrue(value(metrics, "rerank_engine_tokens_padded_total{") >= value(metrics, "rerank_engine_tokens_real_total{"), "padding");
        assertTrue(value(metrics, "rerank_engine_padding_ratio{") >= 1.0, "padding ratio");
        assertTrue(value(metrics, "rerank_engine_queue_delay_seconds_count{") > 0, "queue delay");
        assertTrue(value(metrics, "rerank_scoring_latency_seconds_count{") >= QUERIES, "scoring latency");
        assertTrue(value(metrics, "rerank_end_to_end_latency_seconds_count{") >= QUERIES, "end-to-end latency");
        assertEquals(1.0, value(metrics, "rerank_dead_letters_total{reason=\"deserialization\""), "the corrupt record, by reason");
        assertTrue(metrics.contains("rerank_pending_queries"), "pending queries");
        assertTrue(value(metrics, "rerank_model_info{") == 1.0 && metrics.contains("version=\""), "model and version");
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("kafka_stream_") && !l.endsWith(" 0.0")), "Kafka Streams' own metrics");
        var ready = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/health/ready")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
    }

    /** The first sample of a metric whose line starts with {@code prefix}. */
    /** The sum over every series whose line starts with {@code prefix} (counters start at zero for each label set). */
    private static double value(String scrape, String prefix) {
        java.util.List<Double> values = scrape.lines().filter(l -> l.startsWith(prefix))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
        if (values.isEmpty()) {
            throw new AssertionError("no metric " + prefix + " in the scrape");
        }
        return values.stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * Scores and ranks in each result equal an independent computation: each text embedded alone by a plain
     * ONNX Runtime session (no batching, no padding), mean-pooled, and compared by cosine. The pipeline merged
     * these queries' pairs into shared, length-sorted, padded batches, so agreement to 1e-5 proves batching,
     * padding, pooling and the templates. The model is the fp32 bi-encoder fixture: the bundled model is
     * dynamically quantized, which makes scores depend on which rows share a batch (BundledModelScoringTest).
     */
    private static void checkScoresAgainstTheModelDirectly(Map<String, RankedResults> results, List<RetrievalCandidate> candidates)
            throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(
                     BI_ENCODER.resolve("tokenizer.json"), Map.of("maxLength", "64", "truncation", "true"));
             OrtSession session = env.createSession(BI_ENCODER.resolve("model.onnx").toString(), new OrtSession.SessionOptions())) {
            for (RankedResults r : results.values()) {
                float[] query = meanEmbedding(env, session, tokenizer.encode("query: " + r.getQuery()));
                Map<String, Double> expected = new HashMap<>();
                candidates.stream().filter(c -> c.getQueryId().equals(r.getQueryId())).forEach(c -> {
                    float[] passage = meanEmbedding(env, session, tokenizer.encode("passage: " + c.getText()));
                    expected.put(c.getDocId(), cosine(query, passage));
                });
                double previous = Double.POSITIVE_INFINITY;
                for (RankedDocument d : r.getResults()) {
                    assertEquals(expected.get(d.getDocId()), d.getScore(), 1e-5, d.getDocId());
                    assertTrue(d.getScore() <= previous, "ranked by score descending");
                    previous = d.getScore();
                }
            }
        }
    }

    private static float[] meanEmbedding(OrtEnvironment env, OrtSession session, Encoding e) {
        long[] shape = {1, e.getIds().length};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape));
            if (session.getInputNames().contains("token_type_ids")) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                float[][] hidden = ((float[][][]) result.get(0).getValue())[0];
                float[] mean = new float[hidden[0].length];
                for (float[] token : hidden) {
                    for (int i = 0; i < mean.length; i++) {
                        mean[i] += token[i] / hidden.length;
                    }
                }
                return mean;
            }
        } catch (OrtException ex) {
            throw new IllegalStateException(ex);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static String sentence(Random random, int words) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < words; i++) {
            out.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        return out.toString();
    }

    private static void produce(Topics topics, String registry, List<RetrievalCandidate> candidates) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", registry), false);
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), serializer)) {
            for (RetrievalCandidate c : candidates) {
                int q = Integer.parseInt(c.getQueryId().substring(1));
                // A third keyed by query_id, a third by doc_id, a third with no key: all must meet per query.
                String key = switch (q % 3) {
                    case 0 -> c.getQueryId();
                    case 1 -> c.getDocId();
                    default -> null;
                };
                producer.send(new ProducerRecord<>(topics.candidates(), key, c));
            }
        }
    }

    private static void produceCorrupt(Topics topics) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", kafka.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.candidates(), "q0".getBytes(StandardCharsets.UTF_8),
                    "garbage".getBytes(StandardCharsets.UTF_8)));
        }
    }
}
