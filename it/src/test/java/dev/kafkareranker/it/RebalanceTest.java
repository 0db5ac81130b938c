package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Two instances share the work; one stops mid-stream; the other takes over its partitions and state. */
class RebalanceTest {

    private static final int QUERIES = 40;
    private static final int CANDIDATES = 6;

    @Test
    void stoppingOneOfTwoInstancesMidStreamLosesAndDuplicatesNothing() throws Exception {
        try (TestCluster cluster = TestCluster.start("rebalance")) {
            cluster.createTopics(4, "rb.candidates");
            cluster.createTopics(2, "rb.results", "rb.dlq");
            String registry = cluster.registryUrl();
            RerankerApp first = RerankerApp.create(config(cluster, "a"));
            try (RerankerApp second = RerankerApp.create(config(cluster, "b"))) {
                first.start();
                second.start();
                AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
                serializer.configure(Map.of("schema.registry.url", registry), false);
                try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(
                        Map.of("bootstrap.servers", cluster.bootstrapServers()), new StringSerializer(), serializer)) {
                    int sent = 0;
                    for (int d = 0; d < CANDIDATES; d++) {
                        for (int q = 0; q < QUERIES; q++) {
                            producer.send(new ProducerRecord<>("rb.candidates", "q" + q, RetrievalCandidate.newBuilder()
                                    .setQueryId("q" + q).setQuery("query " + q).setDocId("q" + q + "-d" + d)
                                    .setText("passage " + d).setCandidateCount(CANDIDATES).setTopK(0).setMetadata(Map.of()).build()));
                            if (++sent % 20 == 0) {
                                producer.flush();
                                Thread.sleep(150);
                            }
                            if (sent == QUERIES * CANDIDATES / 2) {
                                // Mid-stream, with half of every query gathered somewhere: one instance leaves.
                                first.close();
                                System.out.println("rebalance: instance a stopped after " + sent + " candidates");
                            }
                        }
                    }
                }
                Ledger ledger = Ledger.read(cluster.bootstrapServers(), registry, "rb.results", "rb.dlq", QUERIES,
                        Duration.ofSeconds(4), Duration.ofMinutes(3));
                System.out.printf("rebalance: candidates in=%d, results=%d (queries %d), candidates in results=%d, dead letters=%d,"
                                + " queries with duplicate results=%d%n", QUERIES * CANDIDATES, ledger.results(),
                        ledger.resultsPerQuery().size(), ledger.candidatesInResults().size(), ledger.deadLetters(),
                        ledger.queriesWithMoreThanOneResult());
                assertEquals(QUERIES, ledger.resultsPerQuery().size());
                assertEquals(0, ledger.queriesWithMoreThanOneResult());
                assertEquals(QUERIES * CANDIDATES, ledger.candidatesInResults().size() + ledger.deadLetters());
                assertEquals(0, ledger.deadLetters());
            }
        }
    }

    private static RerankerConfig config(TestCluster cluster, String instance) throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", cluster.bootstrapServers());
        props.put("schema.registry.url", cluster.registryUrl());
        props.put("application.id", "rebalance-test");
        props.put(RerankerConfig.ADMIN_PORT, "0");
        props.put("state.dir", Files.createTempDirectory("rebalance-" + instance).toString());
        props.put(RerankerConfig.TOPIC_CANDIDATES, "rb.candidates");
        props.put(RerankerConfig.TOPIC_RESULTS, "rb.results");
        props.put(RerankerConfig.TOPIC_DEAD_LETTERS, "rb.dlq");
        props.put(RerankerConfig.GATHER_MAX_WAIT_MS, "120000");
        props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
        props.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
        props.put("commit.interval.ms", "200");
        return new RerankerConfig(props);
    }
}
