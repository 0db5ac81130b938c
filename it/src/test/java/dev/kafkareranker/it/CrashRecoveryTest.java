package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once through crashes: the app runs as a child JVM and is SIGKILLed while candidates stream in, each
 * time at a (seeded, random) count of candidates sent, then restarted on the same state directory and awaited
 * until it runs before the stream goes on to the next kill. A read_committed consumer must
 * then see each query's result exactly once, and every candidate in a result or as a dead letter.
 */
class CrashRecoveryTest {

    private static final int QUERIES = 60;
    private static final int CANDIDATES = 8;
    private static final int KILLS = 5;
    /** The feed's burst (TestProducers.produceSteadily). */
    private static final int BURST = 20;

    @TempDir
    Path dir;

    @Test
    void killedFiveTimesMidStreamNothingIsLostAndNothingDuplicated() throws Exception {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start();
             TestCluster cluster = TestCluster.start("crash")) {
            TestApp.Builder setup = TestApp.childOn(cluster, fake, "crash").topics(4, 2).applicationId("crash-test")
                    .set("gather.max.wait.ms", 120_000)
                    // A killed member is noticed after the session timeout; the broker's minimum keeps restarts quick.
                    .set("session.timeout.ms", 6_000)
                    .set("heartbeat.interval.ms", 1_000)
                    .set("commit.interval.ms", 200)
                    // Overlapping keeps state between records (queries marked as being scored), the harder case for
                    // a kill; the waiting mode (the CPU default) runs in the other tests on a real broker.
                    .set("gather.scoring.overlap", "on");

            Random random = new Random(11);
            List<RetrievalCandidate> candidates = TestProducers.interleaved(QUERIES, CANDIDATES, random);

            AtomicInteger sent = new AtomicInteger();
            // Each kill at a count of candidates sent, not after a time: mid-stream however slowly a loaded machine restarts.
            int[] killAt = TestProducers.killPoints(candidates.size(), KILLS, random);
            // The feed runs a burst past each kill point, through the kill, and waits there until the restart runs.
            AtomicInteger allowed = new AtomicInteger(killAt[0] + BURST);
            try (ChildApp app = setup.child(dir, List.of("-Xmx512m"))) {
                app.startAndAwaitRunning();
                Thread producer = new Thread(() -> TestProducers.produceSteadily(setup.pipeline(), candidates, sent, allowed), "crash-producer");
                producer.start();
                for (int kill = 0; kill < KILLS; kill++) {
                    int at = killAt[kill];
                    Await.until(at + " candidates sent", Running.PATIENCE, () -> sent.get() >= at, () -> sent.get() + " sent");
                    app.kill();
                    System.out.printf("crash: SIGKILL %d after %d of %d candidates sent%n", kill + 1, sent.get(), candidates.size());
                    app.startAndAwaitRunning();
                    allowed.set(kill + 1 < KILLS ? killAt[kill + 1] + BURST : candidates.size());
                }
                producer.join();

                Ledger ledger = Ledger.read(setup.pipeline(), QUERIES, Duration.ofMinutes(4));
                System.out.printf("crash: %d kills; candidates in=%d, results=%d (queries %d), candidates in results=%d,"
                                + " dead letters=%d, queries with duplicate results=%d, reported duplicate candidates=%d%n",
                        KILLS, candidates.size(), ledger.results(), ledger.resultsPerQuery().size(), ledger.candidatesInResults().size(),
                        ledger.deadLetters(), ledger.queriesWithMoreThanOneResult(), ledger.reportedDuplicates());
                long rescored = java.nio.file.Files.readAllLines(app.log()).stream().filter(l -> l.contains("scoring it again")).count();
                System.out.printf("crash: queries being scored at a kill and scored again after it: %d%n", rescored);
                assertTrue(app.alive(), "the last instance is still running; see " + app.log());
                assertEquals(QUERIES, ledger.resultsPerQuery().size(), "every query has a result");
                ledger.resultsPerQuery().forEach((query, count) -> assertEquals(1, count, "results for " + query));
                assertEquals(candidates.size(), ledger.candidatesInResults().size() + ledger.deadLetters(), "every candidate is accounted for");
                assertEquals(0, ledger.deadLetters());
                assertEquals(0, ledger.reportedDuplicates(), "no candidate was gathered twice");
            }
        }
    }
}
