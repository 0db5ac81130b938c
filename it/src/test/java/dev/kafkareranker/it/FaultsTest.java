package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Partitioner;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Faults that are not a record's own, on a real broker with a real model: the first results' serializer
 * fails (as with a registry unreachable for a moment), and a producer partitions with CRC32 as librdkafka
 * does. Each ends with every query exactly once, holding all its candidates, and no dead letters.
 */
class FaultsTest {

    private static final String REGISTRY_SCOPE = "faults";
    private static final String REGISTRY = "mock://" + REGISTRY_SCOPE;
    private static final int PARTITIONS = 4;
    /** Results whose serialization fails before the serializer recovers: each fails the task once. */
    private static final int INJECTED_FAILURES = 3;
    private static final Duration PATIENCE = Duration.ofSeconds(120);

    private static EmbeddedKafka kafka;
    private static TestApp.Builder setup;
    private static RerankerApp app;
    private static AvroSerializer<RetrievalCandidate> serializer;

    /** The registry serde, except that serializing a RankedResults fails while failures are left. */
    public static final class FlakyResultsSerde<T extends SpecificRecord> extends SpecificAvroSerde<T> {
        static final AtomicInteger FAILURES_LEFT = new AtomicInteger();
        static final AtomicInteger FAILED = new AtomicInteger();

        @Override
        public Serializer<T> serializer() {
            Serializer<T> real = super.serializer();
            return (topic, data) -> {
                if (data instanceof RankedResults && FAILURES_LEFT.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    FAILED.incrementAndGet();
                    throw new SerializationException("injected: the Schema Registry is unreachable for a moment");
                }
                return real.serialize(topic, data);
            };
        }
    }

    /** librdkafka's default partitioner ("consistent_random"): CRC32 of the key bytes, not Java's murmur2. */
    public static final class Crc32Partitioner implements Partitioner {
        @Override
        public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
            int partitions = cluster.partitionsForTopic(topic).size();
            CRC32 crc = new CRC32();
            crc.update(keyBytes);
            return (int) (crc.getValue() % partitions);
        }

        @Override
        public void close() {
        }

        @Override
        public void configure(Map<String, ?> configs) {
        }
    }

    @BeforeAll
    static void start() throws Exception {
        MockSchemaRegistry.drop(REGISTRY_SCOPE);
        kafka = EmbeddedKafka.start();
        FlakyResultsSerde.FAILURES_LEFT.set(INJECTED_FAILURES);
        setup = TestApp.on(kafka.bootstrapServers(), REGISTRY, "faults").topics(PARTITIONS, PARTITIONS).applicationId("faults-test")
                // Long enough that no query is flushed incomplete while its task recovers from an injected failure.
                .set(RerankerConfig.GATHER_MAX_WAIT_MS, 60_000)
                .set(RerankerConfig.VALUE_SERDE_CLASS, FlakyResultsSerde.class.getName());
        app = setup.start();
        serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", REGISTRY), false);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        kafka.close();
        MockSchemaRegistry.drop(REGISTRY_SCOPE);
    }

    private static RetrievalCandidate candidate(String queryId, String docId, int count) {
        return RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery("what is kafka " + queryId).setDocId(docId)
                .setText("kafka is a distributed log, passage " + docId).setCandidateCount(count).setMetadata(Map.of()).build();
    }

    /** Sends {@code queries} queries of {@code perQuery} candidates, keying every other candidate by its doc_id. */
    private static Set<String> send(KafkaProducer<byte[], byte[]> producer, String prefix, int queries, int perQuery, boolean mixedKeys) {
        Set<String> docs = new HashSet<>();
        for (int d = 0; d < perQuery; d++) {
            for (int q = 0; q < queries; q++) {
                String queryId = prefix + q;
                String docId = queryId + "-d" + d;
                docs.add(docId);
                String key = mixedKeys && d % 2 == 1 ? docId : queryId;
                producer.send(new ProducerRecord<>(setup.topics().candidates(), key.getBytes(StandardCharsets.UTF_8),
                        serializer.serialize(setup.topics().candidates(), candidate(queryId, docId, perQuery))));
            }
        }
        producer.flush();
        return docs;
    }

    private static void assertEachQueryOnceWithAllItsCandidates(String prefix, int queries, Set<String> sent) throws InterruptedException {
        List<String> ids = new ArrayList<>();
        for (int q = 0; q < queries; q++) {
            ids.add(prefix + q);
        }
        Ledger ledger = Ledger.read(setup.pipeline(), ids, PATIENCE);
        Map<String, Integer> ours = new HashMap<>();
        ledger.resultsPerQuery().forEach((q, n) -> {
            if (q.startsWith(prefix)) {
                ours.put(q, n);
            }
        });
        assertEquals(queries, ours.size(), "every query has a result: " + ours.keySet());
        assertEquals(0, ledger.queriesWithMoreThanOneResult(), "no query has two results: " + ledger.resultsPerQuery());
        Set<String> missing = new HashSet<>(sent);
        missing.removeAll(ledger.candidatesInResults());
        assertTrue(missing.isEmpty(), "candidates in no result: " + missing);
        assertEquals(0, ledger.deadLetters(), "nothing here is a bad record");
        assertTrue(app.state().isRunningOrRebalancing(), "state " + app.state());
    }

    @Test
    void theFirstResultsFailingToSerializeLoseNothingAndDuplicateNothing() throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            Set<String> sent = send(producer, "ser-", 8, 3, false);
            assertEachQueryOnceWithAllItsCandidates("ser-", 8, sent);
        }
        assertEquals(INJECTED_FAILURES, FlakyResultsSerde.FAILED.get(), "the failures were injected, and each was retried");
    }

    @Test
    void aCrc32PartitioningProducerWithMixedKeysStillGetsOneResultPerQuery() throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("partitioner.class", Crc32Partitioner.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            Set<String> sent = send(producer, "crc-", 12, 4, true);
            assertEachQueryOnceWithAllItsCandidates("crc-", 12, sent);
        }
    }
}
