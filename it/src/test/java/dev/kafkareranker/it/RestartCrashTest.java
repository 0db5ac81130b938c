package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarts slower than the max wait, with the config a user writes for {@code run} (no instance.id):
 * candidates stream in at a steady rate, each
 * query's spread over less than the max wait, while the app (a child JVM) is SIGKILLed 20 times at
 * random moments and restarted only after more than the max wait. Before the max wait followed the
 * candidates' timestamps, each restart timed out the queries whose remaining candidates waited in the
 * backlog: results {@code complete=false} and their last candidates dead-lettered as late. Now every
 * query must come out once and complete, with no dead letter; the time from each start to its first new
 * result is printed (p50, max) as the recovery time, and beside it the time to each milestone the child
 * logs (models loaded, Kafka Streams set up and started, state restored, RUNNING, first result forwarded):
 * reported, not asserted (on a loaded machine they vary twofold from run to run). The child's log is kept
 * as target/restart-child.log.
 */
class RestartCrashTest {

    /**
     * An upper bound that only stops a hang (a query a second: over an hour of stream, where 20 kills with their
     * restarts take minutes even on a loaded machine): the stream stops starting queries once the last restart
     * has answered a few more.
     */
    private static final int QUERIES = 5_000;
    private static final int CANDIDATES = 5;
    private static final int KILLS = 20;
    private static final long MAX_WAIT_MS = 3_000;
    /** A new query starts this often; its candidates follow at {@link #CANDIDATE_GAP_MS}. */
    private static final long QUERY_GAP_MS = 1_000;
    /**
     * 4 gaps of 400 ms: a query's candidates span 1.6 s, well within the 3 s max wait. In event time, exactly: each
     * record carries its planned timestamp, so a producer held up by a loaded machine does not stretch a query.
     */
    private static final long CANDIDATE_GAP_MS = 400;
    /** Down for longer than the max wait before the restart even begins. */
    private static final long DOWN_MS = MAX_WAIT_MS + 1_000;

    @TempDir
    Path dir;

    private record Send(long atMs, RetrievalCandidate candidate) {}

    @Test
    void twentyKillsWithRestartsSlowerThanMaxWaitLeaveEveryQueryCompleteOnceWithNoDeadLetters() throws Exception {
        try (FakeSchemaRegistryServer registry = FakeSchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), "restart").topics(4, 2)
                    .applicationId("restart-test").set("gather.max.wait.ms", MAX_WAIT_MS);
            // A plain run config: no instance.id. The app derives a static-membership name kept in state.dir, so the
            // restarted instance (same state.dir) takes its tasks back at once, as one with instance.id set does.
            assertTrue(!setup.has("instance.id") && !setup.has("group.instance.id"));

            List<Send> plan = new ArrayList<>();
            for (int q = 0; q < QUERIES; q++) {
                for (int d = 0; d < CANDIDATES; d++) {
                    plan.add(new Send(q * QUERY_GAP_MS + d * CANDIDATE_GAP_MS, RetrievalCandidate.newBuilder()
                            .setQueryId("q" + q).setQuery("query number " + q).setDocId("q" + q + "-d" + d)
                            .setText("passage " + d + " of query " + q).setRetrievalRank(d + 1).setCandidateCount(CANDIDATES)
                            .setTopK(0).setMetadata(Map.of()).build()));
                }
            }
            plan.sort((a, b) -> Long.compare(a.atMs(), b.atMs()));

            ResultWatcher watcher = new ResultWatcher(setup.pipeline());
            AtomicInteger sent = new AtomicInteger();
            // The highest query index the producer has begun sending.
            AtomicInteger begun = new AtomicInteger(-1);
            AtomicBoolean producing = new AtomicBoolean(true);
            // Set once the kills are over: the producer begins no new query, so the run ends soon after.
            AtomicBoolean beginNoMore = new AtomicBoolean();
            List<Long> recoveryMs = new ArrayList<>();
            // Each restart's milestones, ms after its start (the child's log lines, Startup and RerankerApp).
            Map<String, List<Long>> phases = new java.util.LinkedHashMap<>();
            Random random = new Random(12);
            try (ChildApp app = setup.child(dir, List.of("-Xmx512m"))) {
                app.startAndAwaitRunning();
                Thread producer = new Thread(() -> {
                    produce(setup.pipeline(), plan, sent, begun, beginNoMore);
                    producing.set(false);
                }, "restart-producer");
                producer.start();
                for (int kill = 0; kill < KILLS; kill++) {
                    // A random moment of the instance's running time (after RUNNING, and from the 2nd on after its first
                    // result): the scenario's randomness, not a synchronisation.
                    Thread.sleep(500 + random.nextInt(2_500));
                    app.kill();
                    int before = watcher.count();
                    System.out.printf("restart: SIGKILL %d after %d of %d candidates sent, %d results%n",
                            kill + 1, sent.get(), plan.size(), before);
                    // Down for longer than the max wait: the scenario.
                    Thread.sleep(DOWN_MS);
                    long startWallMs = System.currentTimeMillis();
                    long start = System.nanoTime();
                    app.start();
                    // A restart's recovery: from the JVM's start to the first result committed after it.
                    long total = (watcher.firstAfter(start, Duration.ofMinutes(2)) - start) / 1_000_000;
                    recoveryMs.add(total);
                    // Kafka Streams goes RUNNING when its last thread does: a thread that restored first can have
                    // committed a result before that, so the line may still be to come.
                    app.awaitRunning();
                    long running = phase(phases, "to RUNNING", app.firstLogged(ChildApp.RUNNING_LINE), startWallMs);
                    phase(phases, "to models loaded", app.firstLogged("Start-up: models loaded"), startWallMs);
                    phase(phases, "to Kafka Streams set up", app.firstLogged("Start-up: Kafka Streams set up"), startWallMs);
                    phase(phases, "to started", app.firstLogged("Reranker started"), startWallMs);
                    phase(phases, "to state restored", app.firstLogged("State restored"), startWallMs);
                    long forwarded = phase(phases, "to first result forwarded", app.firstLogged("Start-up: first result forwarded"),
                            startWallMs);
                    if (forwarded >= 0) {
                        // The commit that makes it visible to read_committed readers (commit.interval.ms 100 under EOS).
                        phases.computeIfAbsent("first result forwarded to visible", k -> new ArrayList<>()).add(total - forwarded);
                    }
                    if (running >= 0) {
                        // Negative when a thread's first result came before the last thread went RUNNING.
                        phases.computeIfAbsent("RUNNING to first result", k -> new ArrayList<>()).add(total - running);
                    }
                }
                // The last restart answers five more queries before the stream ends.
                watcher.awaitMoreThan(watcher.count() + 4, Duration.ofMinutes(2));
                assertTrue(producing.get(), "the stream ended before the last kill; raise QUERIES so every kill meets a steady input");
                // Queries already begun are finished; no new one begins.
                beginNoMore.set(true);
                producer.join();
                int queries = begun.get() + 1;
                int candidatesIn = sent.get();
                System.out.printf("restart: the stream stopped after %d queries (%d candidates)%n", queries, candidatesIn);

                watcher.awaitQueries(queries, Duration.ofMinutes(3));
                Ledger.toTheEnd(watcher, setup.pipeline(), Duration.ofMinutes(3));
                watcher.close();
                List<Long> sorted = new ArrayList<>(recoveryMs);
                Collections.sort(sorted);
                System.out.printf("restart: %d kills; candidates in=%d, results=%d (queries %d), candidates in results=%d, incomplete=%d,"
                                + " dead letters=%d (late %d), queries with duplicate results=%d; recovery ms p50=%d max=%d all=%s%n",
                        KILLS, candidatesIn, watcher.count(), watcher.perQuery.size(), watcher.inResults.size(), watcher.incomplete.size(),
                        watcher.deadLetters.size(), watcher.deadLetters.stream().filter("late-candidate"::equals).count(),
                        watcher.perQuery.values().stream().filter(n -> n > 1).count(), sorted.get(sorted.size() / 2),
                        sorted.get(sorted.size() - 1), recoveryMs);
                phases.forEach((name, values) -> {
                    List<Long> v = new ArrayList<>(values);
                    Collections.sort(v);
                    System.out.printf("restart: recovery phase %s: p50=%d max=%d (of %d restarts) all=%s%n", name, v.get(v.size() / 2),
                            v.get(v.size() - 1), v.size(), values);
                });
                assertTrue(app.alive(), "the last instance is still running; see " + app.log());
                // Each SIGKILL left the killed instance's copies of ONNX Runtime's and RocksDB's native libraries
                // (37 MB); each start removed its predecessor's, so only the running instance's are there.
                List<String> copies = app.nativeLibraryCopies();
                System.out.printf("restart: native library copies in the child's tmpdir after %d kills: %s%n", KILLS, copies);
                assertTrue(copies.stream().filter(n -> n.startsWith("onnxruntime-java")).count() <= 1
                        && copies.stream().filter(n -> n.startsWith("librocksdbjni")).count() <= 1,
                        "at most the running instance's copy of each: " + copies);
                assertEquals(queries, watcher.perQuery.size(), "every query has a result");
                watcher.perQuery.forEach((query, count) -> assertEquals(1, count, "results for " + query));
                assertEquals(candidatesIn, watcher.inResults.size(), "every candidate is in its query's result");
                assertEquals(0, watcher.incomplete.size(), "no restart made a query incomplete (each query's candidates span"
                        + " 1.6 s of a 3 s max wait)");
                assertEquals(List.of(), List.copyOf(watcher.deadLetters), "dead-letter reasons");
            } finally {
                watcher.close();
                // Kept beside the surefire reports: the @TempDir holding it is deleted after the test.
                if (java.nio.file.Files.exists(dir.resolve("child.log"))) {
                    java.nio.file.Files.copy(dir.resolve("child.log"), Path.of("target", "restart-child.log"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Records a milestone {@code atMs} (epoch ms, -1 when not logged) as ms after {@code startMs}; returns it. */
    private static long phase(Map<String, List<Long>> phases, String name, long atMs, long startMs) {
        if (atMs < 0) {
            return -1;
        }
        long after = atMs - startMs;
        phases.computeIfAbsent(name, k -> new ArrayList<>()).add(after);
        return after;
    }

    /**
     * Sends the plan at its pace, each record with its planned time as its timestamp (the stream's start plus its
     * offset): the max wait follows record timestamps, so a query spans 1.6 s of its 3 s however late a loaded
     * machine lets this thread send. Once {@code beginNoMore} is set, a query not yet begun is left out; those begun are
     * sent whole. {@code begun} is the highest query begun.
     */
    private static void produce(Pipeline pipeline, List<Send> plan, AtomicInteger sent, AtomicInteger begun, AtomicBoolean beginNoMore) {
        try (KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(pipeline.bootstrap(), pipeline.registryUrl(),
                Map.of("enable.idempotence", true, "linger.ms", 0))) {
            long t0 = System.nanoTime();
            long t0Wall = System.currentTimeMillis();
            for (Send s : plan) {
                int query = Integer.parseInt(s.candidate().getQueryId().substring(1));
                if (query > begun.get()) {
                    if (beginNoMore.get()) {
                        continue;
                    }
                    begun.set(query);
                }
                long wait = s.atMs() - (System.nanoTime() - t0) / 1_000_000;
                if (wait > 0) {
                    // Pacing to the plan, not a synchronisation.
                    Thread.sleep(wait);
                }
                producer.send(new ProducerRecord<>(pipeline.topics().candidates(), null, t0Wall + s.atMs(), s.candidate().getQueryId(),
                        s.candidate()));
                sent.incrementAndGet();
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
