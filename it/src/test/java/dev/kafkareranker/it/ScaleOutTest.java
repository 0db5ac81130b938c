package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three instances of one application (child JVMs, plain {@code run} configs: no instance.id) join, leave
 * (SIGTERM) and are killed (SIGKILL) while three producers stream queries: one keys candidates by
 * query_id, one by doc_id (a query's candidates land on several partitions), one not at all. Eight
 * membership changes mid-stream. Every query must come out once and complete, with no dead letter: a
 * query's max wait passes only once every input partition has been read past its deadline, so a partition
 * whose instance is gone holds it (up to gather.watermark.max.hold.ms, 60 s here, far beyond any outage in
 * this test) instead of timing it out while its candidates wait there. The outcome does not hang on timing:
 * each query's candidates all exist, and nothing lets a deadline pass before they are read (the version
 * before watermarks, timing a query by its first candidate's partition, failed this test: 7 incomplete
 * queries, 13 late-candidate dead letters). Reported: the
 * longest and median delay from a query's last candidate (acknowledged by the broker) to its result, and
 * the extra records the watermarks cost. The children's logs are kept as target/scale-*.log.
 */
class ScaleOutTest {

    private static final String PREFIX = "scale";
    private static final int PARTITIONS = 6;
    private static final int CANDIDATES = 4;
    /** Each producer starts a query this often; its candidates follow 100 ms apart. */
    private static final long QUERY_GAP_MS = 900;
    /** Between membership changes: long enough that most changes meet a running group, and a rebalance or two in progress. */
    private static final long CHANGE_GAP_MS = 7_000;

    @TempDir
    Path dir;

    private record Producer(String name, Function<RetrievalCandidate, String> key) {}

    @Test
    void instancesJoiningLeavingAndDyingMidStreamLeaveEveryQueryCompleteOnceWhateverItsKeying() throws Exception {
        List<Producer> producers = List.of(new Producer("k", RetrievalCandidate::getQueryId), new Producer("d", RetrievalCandidate::getDocId),
                new Producer("u", c -> null));
        try (FakeSchemaRegistryServer registry = FakeSchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), PREFIX).topics(PARTITIONS, 2)
                    .applicationId("scale-test")
                    .set("gather.max.wait.ms", 5_000)
                    .set("gather.watermark.max.hold.ms", 60_000);
            List<ChildApp> apps = new ArrayList<>();
            for (String name : List.of("a", "b", "c")) {
                apps.add(setup.child(Files.createDirectories(dir.resolve(name)), List.of("-Xmx384m")));
            }
            ChildApp a = apps.get(0);
            ChildApp b = apps.get(1);
            ChildApp c = apps.get(2);
            Map<String, Long> lastAcked = new ConcurrentHashMap<>();
            Set<String> sent = ConcurrentHashMap.newKeySet();
            AtomicBoolean producing = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            RepartitionCounter counter = new RepartitionCounter(kafka.bootstrapServers(), "scale-test-by-query-id-repartition");
            try (ResultWatcher watcher = new ResultWatcher(setup.pipeline());
                 counter) {
                a.startAndAwaitRunning();
                for (Producer p : producers) {
                    Thread t = new Thread(() -> produce(setup.pipeline(), p, producing, sent, lastAcked), "producer-" + p.name());
                    t.start();
                    threads.add(t);
                }
                watcher.awaitMoreThan(0, Duration.ofMinutes(3));
                List<String> changes = new ArrayList<>();
                Runnable[] steps = {
                    () -> start(b, changes, "b joins"),
                    () -> start(c, changes, "c joins"),
                    () -> stop(b, changes, "b leaves (SIGTERM)"),
                    () -> kill(c, changes, "c is killed (SIGKILL)"),
                    () -> start(b, changes, "b joins again"),
                    () -> start(c, changes, "c restarts"),
                    () -> kill(a, changes, "a is killed (SIGKILL)"),
                    () -> start(a, changes, "a restarts"),
                };
                for (Runnable step : steps) {
                    // The gap between membership changes is the scenario, not a synchronisation.
                    Thread.sleep(CHANGE_GAP_MS);
                    step.run();
                    System.out.printf("scale: %s; %d results so far%n", changes.get(changes.size() - 1), watcher.count());
                }
                Thread.sleep(CHANGE_GAP_MS);
                producing.set(false);
                for (Thread t : threads) {
                    t.join();
                }
                int queries = (int) sent.stream().map(d -> d.substring(0, d.lastIndexOf('-'))).distinct().count();
                watcher.awaitQueries(queries, Duration.ofMinutes(4));
                Ledger.toTheEnd(watcher, setup.pipeline(), Duration.ofMinutes(4));

                List<Long> delays = new ArrayList<>();
                lastAcked.forEach((query, acked) -> {
                    Long arrived = watcher.arrivedNanos.get(query);
                    if (arrived != null) {
                        delays.add((arrived - acked) / 1_000_000);
                    }
                });
                Collections.sort(delays);
                Map<String, Long> byKeying = new java.util.TreeMap<>();
                watcher.perQuery.keySet().forEach(q -> byKeying.merge(q.substring(0, 1), 1L, Long::sum));
                System.out.printf("scale: %d membership changes %s; %d queries (%s by producer: k=query_id, d=doc_id, u=none), %d candidates;"
                                + " results %d, queries with more than one %d, incomplete %d, dead letters %s; last candidate to result ms:"
                                + " p50=%d max=%d%n", changes.size(), changes, queries, byKeying, sent.size(), watcher.count(),
                        watcher.perQuery.values().stream().filter(n -> n > 1).count(), watcher.incomplete.size(), List.copyOf(watcher.deadLetters),
                        delays.isEmpty() ? -1 : delays.get(delays.size() / 2), delays.isEmpty() ? -1 : delays.get(delays.size() - 1));
                System.out.printf("scale: the repartition topic carried %d candidates and %d watermark records in %d s (%d partitions in,"
                                + " %d across); candidates that skipped it: %d%n", counter.candidates(), counter.watermarks(), counter.seconds(),
                        PARTITIONS, PARTITIONS, sent.size() - counter.candidates());
                assertTrue(changes.size() >= 6, "membership changes: " + changes);
                assertEquals(queries, watcher.perQuery.size(), "every query has a result");
                watcher.perQuery.forEach((query, n) -> assertEquals(1, n, "results for " + query));
                Set<String> missing = new java.util.TreeSet<>(sent);
                missing.removeAll(watcher.inResults);
                assertEquals(Set.of(), missing, "candidates in no result");
                assertEquals(Set.of(), Set.copyOf(watcher.incomplete), "no query went out incomplete");
                assertEquals(List.of(), List.copyOf(watcher.deadLetters), "no dead letter, late or other");
            } finally {
                producing.set(false);
                for (ChildApp app : apps) {
                    app.close();
                }
                for (String name : List.of("a", "b", "c")) {
                    Path log = dir.resolve(name).resolve("child.log");
                    if (Files.exists(log)) {
                        Files.copy(log, Path.of("target", "scale-" + name + ".log"), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
    }

    private static void start(ChildApp app, List<String> changes, String what) {
        try {
            app.start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        changes.add(what);
    }

    private static void stop(ChildApp app, List<String> changes, String what) {
        try {
            app.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        changes.add(what);
    }

    private static void kill(ChildApp app, List<String> changes, String what) {
        try {
            app.kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        changes.add(what);
    }

    /** Queries NAME0, NAME1, ... of {@value #CANDIDATES} candidates each, keyed by {@code p.key}, until told to stop. */
    private static void produce(Pipeline pipeline, Producer p, AtomicBoolean producing, Set<String> sent, Map<String, Long> lastAcked) {
        try (KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(pipeline.bootstrap(), pipeline.registryUrl(),
                Map.of("enable.idempotence", true, "linger.ms", 0))) {
            for (int q = 0; producing.get(); q++) {
                String queryId = p.name() + q;
                // Each candidate's timestamp is planned, 100 ms after the one before: the max wait follows record
                // timestamps, so a query spans 300 ms of its 5 s however long a loaded machine holds this thread up.
                long queryStartMs = System.currentTimeMillis();
                for (int d = 0; d < CANDIDATES; d++) {
                    RetrievalCandidate c = RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery("query " + queryId)
                            .setDocId(queryId + "-" + d).setText("passage " + d + " of " + queryId).setRetrievalRank(d + 1)
                            .setCandidateCount(CANDIDATES).setTopK(0).setMetadata(Map.of()).build();
                    boolean last = d == CANDIDATES - 1;
                    producer.send(new ProducerRecord<>(pipeline.topics().candidates(), null, queryStartMs + 100L * d, p.key().apply(c), c),
                            (meta, e) -> {
                        if (e == null && last) {
                            lastAcked.put(queryId, System.nanoTime());
                        }
                    });
                    sent.add(c.getDocId());
                    // Pacing: the stream's shape, not a synchronisation.
                    Thread.sleep(100);
                }
                Thread.sleep(QUERY_GAP_MS - 100L * CANDIDATES);
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Counts what crosses the repartition topic as it goes (Kafka Streams purges what it has read): candidates and watermarks. */
    private static final class RepartitionCounter implements AutoCloseable {
        private final java.util.concurrent.atomic.AtomicLong candidates = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong watermarks = new java.util.concurrent.atomic.AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final long start = System.nanoTime();
        private final Thread thread;

        RepartitionCounter(String bootstrap, String topic) {
            thread = new Thread(() -> {
                // Never creates the topic (Kafka Streams does, with its partition count), and finds it soon after it exists.
                Map<String, Object> props = Map.of("bootstrap.servers", bootstrap, "group.id", "counter-" + topic,
                        "auto.offset.reset", "earliest", "isolation.level", "read_committed", "allow.auto.create.topics", false,
                        "metadata.max.age.ms", 1_000);
                try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                        props, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                    consumer.subscribe(List.of(topic));
                    while (running.get()) {
                        for (var r : consumer.poll(Duration.ofMillis(50))) {
                            (r.headers().lastHeader("rerank.watermark") != null ? watermarks : candidates).incrementAndGet();
                        }
                    }
                }
            }, "repartition-counter");
            thread.start();
        }

        long candidates() {
            return candidates.get();
        }

        long watermarks() {
            return watermarks.get();
        }

        long seconds() {
            return (System.nanoTime() - start) / 1_000_000_000;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }
}
