package dev.kafkareranker.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's directory is replaced by a new version while queries stream through: each result must
 * come wholly from one version (its scores are that version's), none is lost, and no error is raised.
 * Version 1 is the BERT fixture, version 2 the RoBERTa+LoRA fixture, so their scores differ.
 */
class HotSwapTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures");
    private static final String QUERY = "what is kafka streams";
    private static final List<String> PASSAGES = List.of("Kafka Streams is a client library.", "A stream processor.",
            "Bananas are yellow.", "Exactly-once processing with transactions.");

    @TempDir
    Path dir;

    private static void copy(Path from, Path to, String version) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        String json = Files.readString(to.resolve("reranker.json")).replaceAll("\"version\"\\s*:\\s*\"[^\"]*\"", "\"version\": \"" + version + "\"");
        Files.writeString(to.resolve("reranker.json"), json);
    }

    private static InferenceOptions cpu() {
        return InferenceOptions.defaults().withDevice(Device.parse("cpu"));
    }

    private static List<Score> reference(Path model) {
        try (Scorer scorer = Scorers.open(ModelDirectory.load(model), cpu())) {
            return scorer.score(QUERY, PASSAGES);
        }
    }

    @Test
    void aSwapMidStreamLosesNothingAndEveryResultIsFromOneVersion() throws Exception {
        Path v1 = dir.resolve("v1");
        Path v2 = dir.resolve("v2");
        copy(FIXTURES.resolve("bert-cross-encoder"), v1, "1");
        copy(FIXTURES.resolve("roberta-lora"), v2, "2");
        Map<String, List<Score>> expected = Map.of("1", reference(v1), "2", reference(v2));
        Path live = dir.resolve("live");
        copy(v1, live, "1");

        try (ModelRegistry registry = ModelRegistry.open(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker")) {
            AtomicBoolean running = new AtomicBoolean(true);
            Map<String, Integer> byVersion = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                workers.add(pool.submit(() -> {
                    int done = 0;
                    while (running.get() || done < 5) {
                        Scorer.Scoring s = registry.forModel("ranker").scoreQuery(QUERY, PASSAGES);
                        List<Score> want = expected.get(s.modelVersion());
                        for (int i = 0; i < PASSAGES.size(); i++) {
                            assertEquals(want.get(i).score(), s.scores().get(i).score(), 1e-6,
                                    "a result of version " + s.modelVersion() + " has that version's scores");
                        }
                        assertEquals("ranker", s.modelName());
                        byVersion.merge(s.modelVersion(), 1, Integer::sum);
                        done++;
                    }
                    return done;
                }));
            }
            // Some queries on each version, however fast this machine scores: counted, not timed.
            Await.until(() -> byVersion.getOrDefault("1", 0) >= 10, () -> "queries on version 1: " + byVersion);
            copy(v2, live, "2");
            assertEquals("2", registry.reload("ranker"));
            Await.until(() -> byVersion.getOrDefault("2", 0) >= 10, () -> "queries on version 2: " + byVersion);
            running.set(false);
            int total = 0;
            for (Future<Integer> w : workers) {
                total += w.get(Await.HANG.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            }
            pool.shutdown();
            System.out.printf("hot swap: %d queries, by version %s%n", total, byVersion);
            assertTrue(byVersion.getOrDefault("1", 0) > 0 && byVersion.getOrDefault("2", 0) > 0, byVersion.toString());
            assertEquals(total, byVersion.values().stream().mapToInt(Integer::intValue).sum(), "every query has a result");
            assertEquals("2", registry.forModel(null).scoreQuery(QUERY, PASSAGES).modelVersion());
        }
    }

    @Test
    void theWatcherReloadsAChangedDirectoryAndKeepsTheOldVersionWhenTheNewOneIsBroken() throws Exception {
        Path live = dir.resolve("live");
        copy(FIXTURES.resolve("bert-cross-encoder"), live, "1");
        try (ModelRegistry registry = ModelRegistry.open(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker");
             ModelWatcher watcher = new ModelWatcher(registry, Duration.ofHours(1), Duration.ZERO, System::currentTimeMillis, false)) {
            copy(FIXTURES.resolve("roberta-lora"), live, "2");
            watcher.check();
            assertEquals("1", registry.slot("ranker").modelVersion(), "a change is acted on once it has held still");
            watcher.check();
            assertEquals("2", registry.slot("ranker").modelVersion());

            Files.writeString(live.resolve("model.onnx"), "half-copied");
            watcher.check();
            watcher.check();
            assertEquals("2", registry.slot("ranker").modelVersion(), "a broken directory leaves the serving version alone");
            assertEquals(PASSAGES.size(), registry.forModel("ranker").score(QUERY, PASSAGES).size());
        }
    }

    /** A clock the test moves: the watcher's settle period and retry backoff without sleeping through them. */
    private static final class TestClock implements java.util.function.LongSupplier {
        long millis = 1_000_000;

        @Override
        public long getAsLong() {
            return millis;
        }
    }

    @Test
    void aDirectoryStillBeingCopiedIsNotLoadedUntilItHasBeenStillForTheSettlePeriod() throws Exception {
        Path live = dir.resolve("live");
        copy(FIXTURES.resolve("bert-cross-encoder"), live, "1");
        Path v2 = dir.resolve("v2");
        copy(FIXTURES.resolve("roberta-lora"), v2, "2");
        List<Score> expected = reference(v2);
        TestClock clock = new TestClock();
        try (ModelRegistry registry = ModelRegistry.open(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker");
             ModelWatcher watcher = new ModelWatcher(registry, Duration.ofSeconds(1), Duration.ofSeconds(30), clock, false)) {
            // A copy that pauses after the weights, before reranker.json: longer than the poll interval.
            Files.copy(v2.resolve("model.onnx"), live.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
            watcher.check();
            clock.millis += 29_000;
            watcher.check();
            assertEquals("1", registry.slot("ranker").modelVersion(), "still within the settle period after the last change");
            copy(v2, live, "2");
            clock.millis += 20_000;
            watcher.check();
            clock.millis += 29_000;
            watcher.check();
            assertEquals("1", registry.slot("ranker").modelVersion(), "the last file's change restarted the settle period");
            clock.millis += 1_000;
            watcher.check();
            assertEquals("2", registry.slot("ranker").modelVersion());
            List<Score> scores = registry.forModel("ranker").score(QUERY, PASSAGES);
            for (int i = 0; i < PASSAGES.size(); i++) {
                assertEquals(expected.get(i).score(), scores.get(i).score(), 1e-6, "version 2 serves version 2's weights");
            }
        }
    }

    @Test
    void aFailedLoadIsRetriedAfterABackoffWhileTheOldVersionServes() throws Exception {
        Path live = dir.resolve("live");
        copy(FIXTURES.resolve("bert-cross-encoder"), live, "1");
        java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
        // A fake load failure for what a CPU cannot be made to do on demand (a GPU out of memory while two copies are loaded).
        java.util.function.Function<ModelRegistry.Served, Scorer> flakyLoader = m -> {
            if (loads.incrementAndGet() == 2) {
                throw new dev.kafkareranker.model.ModelLoadException("injected: CUDA out of memory while loading");
            }
            return Scorers.open(ModelDirectory.load(m.dir()), m.options());
        };
        TestClock clock = new TestClock();
        try (ModelRegistry registry = new ModelRegistry(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker", flakyLoader);
             ModelWatcher watcher = new ModelWatcher(registry, Duration.ofSeconds(1), Duration.ofSeconds(5), clock, false)) {
            copy(FIXTURES.resolve("roberta-lora"), live, "2");
            watcher.check();
            clock.millis += 5_000;
            watcher.check();
            assertEquals(2, loads.get(), "the settled directory was loaded, and that failed");
            assertEquals("1", registry.slot("ranker").modelVersion());
            assertEquals(PASSAGES.size(), registry.forModel("ranker").score(QUERY, PASSAGES).size(), "the old version serves");
            clock.millis += 500;
            watcher.check();
            assertEquals(2, loads.get(), "not retried before the backoff");
            clock.millis += 1_000;
            watcher.check();
            assertEquals(3, loads.get(), "retried after it, without any new change to the directory");
            assertEquals("2", registry.slot("ranker").modelVersion());
        }
    }

    @Test
    void concurrentReloadsLoadOneCopyAtATimeAndShareLoads() throws Exception {
        Path live = dir.resolve("live");
        copy(FIXTURES.resolve("bert-cross-encoder"), live, "1");
        java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger loading = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger mostAtOnce = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch firstStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.function.Function<ModelRegistry.Served, Scorer> loader = m -> {
            int n = loads.incrementAndGet();
            mostAtOnce.accumulateAndGet(loading.incrementAndGet(), Math::max);
            try {
                if (n == 2) {
                    firstStarted.countDown();
                    // Holds the first reload while the other requests arrive; bounded so a broken test ends.
                    release.await(60, java.util.concurrent.TimeUnit.SECONDS);
                }
                return Scorers.open(ModelDirectory.load(m.dir()), m.options());
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                loading.decrementAndGet();
            }
        };
        try (ModelRegistry registry = new ModelRegistry(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker", loader)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<String>> reloads = new ArrayList<>();
            reloads.add(pool.submit(() -> registry.reload("ranker")));
            assertTrue(firstStarted.await(60, java.util.concurrent.TimeUnit.SECONDS));
            for (int i = 0; i < 3; i++) {
                reloads.add(pool.submit(() -> registry.reload("ranker")));
            }
            Await.until(() -> registry.reloadsWaiting("ranker") == 3, () -> "the three wait behind the first: "
                    + registry.reloadsWaiting("ranker"));
            release.countDown();
            for (Future<String> f : reloads) {
                assertEquals("1", f.get(120, java.util.concurrent.TimeUnit.SECONDS));
            }
            pool.shutdown();
            assertEquals(1, mostAtOnce.get(), "never two copies loading at once");
            assertEquals(3, loads.get(), "1 initial + the first reload + one shared by the three that waited");
        }
    }

    @Test
    void anErrorWhileLoadingLeavesTheCurrentVersionServingAndTheWatcherRetrying() throws Exception {
        Path live = dir.resolve("live");
        copy(FIXTURES.resolve("bert-cross-encoder"), live, "1");
        java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
        // Errors a load can end in that a CPU cannot be made to throw on demand: memory running out while two
        // copies are loaded, a CUDA library that does not link.
        List<Error> errors = List.of(new OutOfMemoryError("injected: Java heap space"),
                new UnsatisfiedLinkError("injected: libcublasLt.so.12: cannot open shared object file"));
        java.util.function.Function<ModelRegistry.Served, Scorer> loader = m -> {
            int n = loads.incrementAndGet();
            if (n == 2 || n == 3) {
                throw errors.get(n - 2);
            }
            return Scorers.open(ModelDirectory.load(m.dir()), m.options());
        };
        TestClock clock = new TestClock();
        try (ModelRegistry registry = new ModelRegistry(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker", loader);
             ModelWatcher watcher = new ModelWatcher(registry, Duration.ofSeconds(1), Duration.ZERO, clock, false)) {
            copy(FIXTURES.resolve("roberta-lora"), live, "2");
            watcher.check();
            watcher.check();
            assertEquals(2, loads.get(), "loading ran out of memory");
            assertEquals("1", registry.slot("ranker").modelVersion());
            assertEquals(PASSAGES.size(), registry.forModel("ranker").score(QUERY, PASSAGES).size(), "the old version serves");
            clock.millis += 1_000;
            watcher.check();
            assertEquals(3, loads.get(), "retried after the backoff: a library that did not link");
            assertEquals("1", registry.slot("ranker").modelVersion());
            clock.millis += 2_000;
            watcher.check();
            assertEquals(4, loads.get(), "retried again, the backoff doubled");
            assertEquals("2", registry.slot("ranker").modelVersion());
        }
    }

    /** A new version whose warm-up query dies of an Error: a fake, for what a CPU session cannot be made to do on demand. */
    private static final class FakeErrorOnWarmUpScorer implements Scorer {
        final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public List<Score> score(String query, List<String> passages) {
            throw new OutOfMemoryError("injected: Direct buffer memory");
        }

        @Override
        public String modelName() {
            return "ranker";
        }

        @Override
        public String modelVersion() {
            return "2";
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void aNewVersionThatDiesOfAnErrorWarmingUpIsClosedAndTheCurrentOneServes() {
        Path live = FIXTURES.resolve("bert-cross-encoder");
        try (ModelSlot slot = new ModelSlot("ranker", Scorers.open(ModelDirectory.load(live), cpu()))) {
            FakeErrorOnWarmUpScorer next = new FakeErrorOnWarmUpScorer();
            dev.kafkareranker.model.ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.kafkareranker.model.ModelLoadException.class, () -> slot.swap(() -> next));
            assertTrue(e.getMessage().contains("ranker") && e.getMessage().contains("Direct buffer memory"), e.getMessage());
            assertInstanceOf(OutOfMemoryError.class, e.getCause());
            assertTrue(next.closed.get(), "the version that failed is closed, not leaked");
            assertEquals("1", slot.modelVersion());
            assertEquals(PASSAGES.size(), slot.score(QUERY, PASSAGES).size(), "the current version serves");
        }
    }
}
