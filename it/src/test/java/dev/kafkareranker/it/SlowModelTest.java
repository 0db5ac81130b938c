package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.inference.SlowModels;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.Test;

/**
 * A model slower than a transaction may last: the real tiny BERT, each of its batches held back
 * {@value #BATCH_DELAY_MS} ms by a named delay wrapper (SlowModels), with the producers' transaction
 * timeout at {@value #TRANSACTION_TIMEOUT_MS} ms, and room in the model for {@value #MODEL_ROOM} queries at
 * a time. When a stream thread waited for scores inside its transaction, each such query would have outlived
 * the transaction, fenced the producer and rebalanced the group. Now every query must be answered once, with
 * no fenced producer and no rebalance (Kafka Streams never leaves RUNNING, no stream thread is replaced),
 * and the input must be paused while the model is full and resumed after.
 */
class SlowModelTest {

    private static final String PREFIX = "slow";
    private static final long BATCH_DELAY_MS = 8_000;
    /** The lowest KeyBounds allows with exactly-once's 100 ms commit interval. */
    private static final long TRANSACTION_TIMEOUT_MS = 6_000;
    private static final int MODEL_ROOM = 2;
    private static final int QUERIES = 8;
    private static final int CANDIDATES = 3;

    @Test
    void everyQueryIsAnsweredOnceWithoutFencingOrRebalanceAndTheInputPausesWhileTheModelIsFull() throws Exception {
        SlowModels.Stats stats = new SlowModels.Stats();
        try (FakeSchemaRegistryServer registry = FakeSchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), PREFIX).topics(4, 2)
                    .applicationId("slow-model-test").loader(SlowModels.loader(BATCH_DELAY_MS, MODEL_ROOM, stats))
                    .set("producer.transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
                    // The slow batches must not be abandoned as hung: this test is about slowness, not faults.
                    .set(RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS, 60_000)
                    .set(RerankerConfig.INFERENCE_REQUEST_TIMEOUT_MS, 300_000)
                    // Long: every query is complete by its count; none may time out while the model is slow.
                    .set(RerankerConfig.GATHER_MAX_WAIT_MS, 300_000);

            List<String> transitions = new CopyOnWriteArrayList<>();
            AtomicBoolean sawPaused = new AtomicBoolean();
            AtomicInteger pausedWhileFull = new AtomicInteger();
            try (RerankerApp app = setup.create(setup.config());
                 KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(setup.pipeline())) {
                app.addStateListener((now, before) -> transitions.add(before + "->" + now));
                app.start();
                Running.await(app);
                Set<String> threadsBefore = threadNames(app.streams());
                List<String> runningSince = List.copyOf(transitions);

                AtomicBoolean watching = new AtomicBoolean(true);
                Thread watcher = new Thread(() -> {
                    while (watching.get()) {
                        if (app.streams().isPaused()) {
                            sawPaused.set(true);
                            if (stats.queued.get() >= MODEL_ROOM) {
                                pausedWhileFull.incrementAndGet();
                            }
                        }
                        try {
                            // A sampling period, not a synchronisation: how often the input's state is looked at.
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "slow-model-watcher");
                watcher.start();
                long start = System.nanoTime();
                Set<String> sent = new HashSet<>(TestProducers.sendQueries(producer, setup.topics().candidates(), "q", QUERIES, CANDIDATES));
                Ledger ledger = Ledger.read(setup.pipeline(), QUERIES, Duration.ofMinutes(6));
                long seconds = (System.nanoTime() - start) / 1_000_000_000;
                watching.set(false);
                watcher.join();
                // The last look of the gate (every 200 ms, two clear looks) resumes the input once the model has room.
                Await.until("the input to be resumed", Duration.ofSeconds(30), () -> !app.streams().isPaused());

                List<Long> perQuery = new ArrayList<>(stats.queryMillis);
                Collections.sort(perQuery);
                List<String> afterRunning = transitions.subList(runningSince.size(), transitions.size());
                System.out.printf("slow-model: %d queries x %d candidates in %d s; %d batches of %d ms each, transaction timeout %d ms;"
                                + " handed over to scored ms %s; most queries in the model %d (room %d), handed over without room %d;"
                                + " input paused while full (20 ms looks) %d; state changes after RUNNING %s; results %d, dead letters %d%n",
                        QUERIES, CANDIDATES, seconds, stats.batches.get(), BATCH_DELAY_MS, TRANSACTION_TIMEOUT_MS, perQuery,
                        stats.mostQueued.get(), MODEL_ROOM, stats.handedOverWithoutRoom.get(), pausedWhileFull.get(), afterRunning,
                        ledger.results(), ledger.deadLetters());

                assertEquals(QUERIES, ledger.resultsPerQuery().size(), "every query has a result: " + ledger.resultsPerQuery().keySet());
                assertEquals(0, ledger.queriesWithMoreThanOneResult(), "no query has two results");
                assertEquals(sent, ledger.candidatesInResults(), "every candidate is in its query's result");
                assertEquals(0, ledger.deadLetters());
                assertTrue(perQuery.get(perQuery.size() - 1) > TRANSACTION_TIMEOUT_MS,
                        "queries took longer than a transaction may: " + perQuery);
                assertEquals(List.of(), afterRunning, "no rebalance (a fenced producer rejoins the group) once RUNNING");
                assertEquals(KafkaStreams.State.RUNNING, app.state());
                assertEquals(threadsBefore, threadNames(app.streams()), "no stream thread was replaced");
                assertTrue(sawPaused.get() && pausedWhileFull.get() > 0, "the input was paused while the model was full");
                assertEquals(0, stats.handedOverWithoutRoom.get(), "no query was handed to a model that said it had no room");
                assertFalse(app.streams().isPaused(), "and resumed once it had room");
            }
        }
    }

    private static Set<String> threadNames(KafkaStreams streams) {
        Set<String> names = new HashSet<>();
        for (ThreadMetadata t : streams.metadataForLocalThreads()) {
            names.add(t.threadName());
        }
        return names;
    }
}
