package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

/**
 * Two instances share the work; one stops mid-stream and the other takes over its partitions and state
 * through a rebalance it is seen to go through. Mid-stream by construction, not by timing: both instances
 * are RUNNING with tasks of their own, the first half of every query's candidates is sent and processed (the
 * app's own committed offsets say so) with no query complete, then the first instance stops and the second
 * half is sent at once. Every query thus spans the stop, and half of them had their first half in the
 * stopped instance's stores. Nothing is lost, duplicated or dead-lettered.
 */
class RebalanceTest {

    private static final int QUERIES = 40;
    private static final int CANDIDATES = 6;
    private static final Duration PATIENCE = Duration.ofMinutes(3);

    @Test
    void stoppingOneOfTwoInstancesMidStreamLosesAndDuplicatesNothing() throws Exception {
        try (TestCluster cluster = TestCluster.start("rebalance")) {
            TestApp.Builder setup = TestApp.on(cluster.bootstrapServers(), cluster.registryUrl(), "rb").topics(4, 2)
                    .applicationId("rebalance-test")
                    // Long: every query completes by its count, half before the stop and half after it.
                    .set(RerankerConfig.GATHER_MAX_WAIT_MS, 120_000)
                    .set("commit.interval.ms", 200);
            // Two instances: each its own state.dir.
            RerankerApp first = setup.create(setup.config());
            try (RerankerApp second = setup.create(setup.config());
                 ResultWatcher watcher = new ResultWatcher(setup.pipeline());
                 KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(setup.pipeline())) {
                List<String> secondStates = new CopyOnWriteArrayList<>();
                second.addStateListener((now, before) -> secondStates.add(before + "->" + now));
                boolean firstClosed = false;
                try {
                    first.start();
                    second.start();
                    awaitBothRunningWithTasks(first, second);
                    Set<TaskId> firstTasks = activeTasks(first);
                    send(producer, setup, 0, CANDIDATES / 2);
                    // Gathered: every candidate of the first half processed and committed, in both instances' stores.
                    Drained.await(setup.pipeline(), PATIENCE);
                    watcher.readToEnd(PATIENCE);
                    assertEquals(0, watcher.count(), "no query is complete with half its candidates");
                    int statesBeforeTheStop = secondStates.size();
                    first.close();
                    firstClosed = true;
                    System.out.println("rebalance: instance a stopped with tasks " + firstTasks + " and half of every query gathered");
                    send(producer, setup, CANDIDATES / 2, CANDIDATES);

                    Await.until("the remaining instance to rebalance and run every task", PATIENCE, () -> {
                        List<String> after = secondStates.subList(statesBeforeTheStop, secondStates.size());
                        return after.contains("RUNNING->REBALANCING") && second.state() == KafkaStreams.State.RUNNING
                                && activeTasks(second).containsAll(firstTasks);
                    }, () -> "its state changes since the stop " + secondStates.subList(statesBeforeTheStop, secondStates.size())
                            + ", tasks " + activeTasks(second) + " (the stopped instance's: " + firstTasks + ")");
                    List<String> afterStop = List.copyOf(secondStates.subList(statesBeforeTheStop, secondStates.size()));

                    watcher.awaitQueries(QUERIES, PATIENCE);
                    Ledger ledger = Ledger.toTheEnd(watcher, setup.pipeline(), PATIENCE);
                    System.out.printf("rebalance: candidates in=%d, results=%d (queries %d), candidates in results=%d, dead letters=%d,"
                                    + " queries with duplicate results=%d; the remaining instance's state changes after the stop: %s%n",
                            QUERIES * CANDIDATES, ledger.results(), ledger.resultsPerQuery().size(), ledger.candidatesInResults().size(),
                            ledger.deadLetters(), ledger.queriesWithMoreThanOneResult(), afterStop);
                    assertEquals(QUERIES, ledger.resultsPerQuery().size());
                    assertEquals(0, ledger.queriesWithMoreThanOneResult());
                    assertEquals(QUERIES * CANDIDATES, ledger.candidatesInResults().size() + ledger.deadLetters());
                    assertEquals(0, ledger.deadLetters());
                    assertEquals(Set.of(), Set.copyOf(watcher.incomplete), "every query complete");
                } finally {
                    if (!firstClosed) {
                        first.close();
                    }
                }
            }
        }
    }

    /** Candidates {@code from} (inclusive) to {@code to} of every query, keyed by query_id, acknowledged. */
    private static void send(KafkaProducer<String, RetrievalCandidate> producer, TestApp.Builder setup, int from, int to) {
        for (int d = from; d < to; d++) {
            for (int q = 0; q < QUERIES; q++) {
                producer.send(new ProducerRecord<>(setup.topics().candidates(), "q" + q, RetrievalCandidate.newBuilder()
                        .setQueryId("q" + q).setQuery("query " + q).setDocId("q" + q + "-d" + d)
                        .setText("passage " + d).setCandidateCount(CANDIDATES).setTopK(0).setMetadata(java.util.Map.of()).build()));
            }
        }
        producer.flush();
    }

    private static Set<TaskId> activeTasks(RerankerApp app) {
        Set<TaskId> tasks = new HashSet<>();
        for (ThreadMetadata thread : app.streams().metadataForLocalThreads()) {
            thread.activeTasks().forEach(t -> tasks.add(t.taskId()));
        }
        return tasks;
    }

    /** Both instances RUNNING, each with active tasks: the stop then moves work, not an idle member. */
    private static void awaitBothRunningWithTasks(RerankerApp... apps) throws InterruptedException {
        for (RerankerApp app : apps) {
            Running.await(app);
        }
        Await.until("the two instances to run with tasks of their own", PATIENCE, () -> {
            for (RerankerApp app : apps) {
                if (app.state() != KafkaStreams.State.RUNNING || activeTasks(app).isEmpty()) {
                    return false;
                }
            }
            return true;
        }, () -> apps[0].state() + " " + activeTasks(apps[0]) + ", " + apps[1].state() + " " + activeTasks(apps[1]));
    }
}
