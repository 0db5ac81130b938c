package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * Two instances share the work; one stops mid-stream, once both are RUNNING with tasks of their own and
 * half of every query is gathered somewhere; the other takes over its partitions and state through a
 * rebalance it is seen to go through. Nothing is lost, duplicated or dead-lettered.
 */
class RebalanceTest {

    private static final int QUERIES = 40;
    private static final int CANDIDATES = 6;
    private static final Duration PATIENCE = Duration.ofMinutes(3);

    @Test
    void stoppingOneOfTwoInstancesMidStreamLosesAndDuplicatesNothing() throws Exception {
        try (TestCluster cluster = TestCluster.start("rebalance")) {
            cluster.createTopics(4, "rb.candidates");
            cluster.createTopics(2, "rb.results", "rb.dlq");
            String registry = cluster.registryUrl();
            RerankerApp first = RerankerApp.create(config(cluster, "a"));
            try (RerankerApp second = RerankerApp.create(config(cluster, "b"))) {
                List<String> secondStates = new CopyOnWriteArrayList<>();
                second.addStateListener((now, before) -> secondStates.add(before + "->" + now));
                first.start();
                second.start();
                awaitBothRunningWithTasks(first, second);
                int statesBeforeTheStop = secondStates.size();
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
                        Duration.ofSeconds(4), PATIENCE);
                List<String> afterStop = secondStates.subList(statesBeforeTheStop, secondStates.size());
                System.out.printf("rebalance: candidates in=%d, results=%d (queries %d), candidates in results=%d, dead letters=%d,"
                                + " queries with duplicate results=%d; the remaining instance's state changes after the stop: %s%n",
                        QUERIES * CANDIDATES, ledger.results(), ledger.resultsPerQuery().size(), ledger.candidatesInResults().size(),
                        ledger.deadLetters(), ledger.queriesWithMoreThanOneResult(), afterStop);
                assertTrue(afterStop.contains("RUNNING->REBALANCING"), "the remaining instance rebalanced mid-stream: " + afterStop);
                assertEquals(QUERIES, ledger.resultsPerQuery().size());
                assertEquals(0, ledger.queriesWithMoreThanOneResult());
                assertEquals(QUERIES * CANDIDATES, ledger.candidatesInResults().size() + ledger.deadLetters());
                assertEquals(0, ledger.deadLetters());
            }
        }
    }

    /** Both instances RUNNING, each with active tasks: the stop then moves work, not an idle member. */
    private static void awaitBothRunningWithTasks(RerankerApp... apps) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            boolean ready = true;
            for (RerankerApp app : apps) {
                ready &= app.state() == KafkaStreams.State.RUNNING
                        && app.streams().metadataForLocalThreads().stream().anyMatch(t -> !t.activeTasks().isEmpty());
            }
            if (ready) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the two instances never both ran with tasks of their own: " + apps[0].state() + ", " + apps[1].state());
            }
            Thread.sleep(50);
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
