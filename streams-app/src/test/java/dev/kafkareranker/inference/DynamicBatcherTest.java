package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The batcher's contract with a row model that records what it was given (the ONNX side is tested
 * with real sessions elsewhere): budgets, delays, routing of results, and failure isolation.
 */
class DynamicBatcherTest {

    /** Outputs each row's id sum, so a result can be traced to its row; can refuse a poison id. */
    private static final class RecordingRowModel implements RowModel {
        final List<int[]> shapes = Collections.synchronizedList(new ArrayList<>());
        volatile long poison = -1;

        @Override
        public float[][] run(List<Encoded> rows) {
            int width = rows.stream().mapToInt(Encoded::length).max().orElse(0);
            shapes.add(new int[] {rows.size(), width});
            float[][] out = new float[rows.size()][1];
            for (int i = 0; i < rows.size(); i++) {
                for (long id : rows.get(i).ids()) {
                    if (id == poison) {
                        throw new InferenceException("poison row", new RuntimeException());
                    }
                    out[i][0] += id;
                }
            }
            return out;
        }

        @Override
        public void close() {
        }
    }

    private static Encoded row(long first, int length) {
        long[] ids = new long[length];
        ids[0] = first;
        for (int i = 1; i < length; i++) {
            ids[i] = 1;
        }
        return new Encoded(ids, new long[length]);
    }

    private static float expected(Encoded row) {
        float sum = 0;
        for (long id : row.ids()) {
            sum += id;
        }
        return sum;
    }

    @Test
    void neverExceedsTheTokenBudgetOrRowCapUnderConcurrentLoad() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        DynamicBatcher.Options options = new DynamicBatcher.Options(16, 1024, Duration.ofMillis(5));
        try (DynamicBatcher batcher = new DynamicBatcher(model, options, new EngineStats(), "test")) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int r = 0; r < 40; r++) {
                        List<Encoded> rows = new ArrayList<>();
                        for (int i = 0; i < 1 + random.nextInt(30); i++) {
                            rows.add(row(1, 1 + random.nextInt(300)));
                        }
                        batcher.submit(rows).join();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        assertTrue(model.shapes.size() > 10);
        for (int[] shape : model.shapes) {
            assertTrue(shape[0] <= 16, "row cap: " + shape[0]);
            assertTrue(shape[0] * shape[1] <= 1024, "token budget: " + shape[0] + " x " + shape[1]);
        }
    }

    @Test
    void aLoneRequestWaitsNoLongerThanTheMaximumDelay() throws Exception {
        EngineStats stats = new EngineStats();
        Duration maxDelay = Duration.ofMillis(100);
        try (DynamicBatcher batcher = new DynamicBatcher(new RecordingRowModel(),
                new DynamicBatcher.Options(64, 100_000, maxDelay), stats, "test")) {
            batcher.submit(List.of(row(3, 4))).get(5, TimeUnit.SECONDS);
        }
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(stats.snapshot().queueDelayNanosMax());
        assertTrue(waitedMs >= 90, "it did wait for company: " + waitedMs + " ms");
        // Scheduling slack on a loaded 2-core machine, not a performance bound.
        assertTrue(waitedMs <= maxDelay.toMillis() + 400, "waited " + waitedMs + " ms");
    }

    @Test
    void aFullBatchDoesNotWaitForTheDelay() throws Exception {
        EngineStats stats = new EngineStats();
        try (DynamicBatcher batcher = new DynamicBatcher(new RecordingRowModel(),
                new DynamicBatcher.Options(8, 100_000, Duration.ofSeconds(30)), stats, "test")) {
            List<Encoded> rows = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                rows.add(row(i, 3));
            }
            batcher.submit(rows).get(10, TimeUnit.SECONDS);
        }
        assertTrue(stats.snapshot().queueDelayNanosMax() < TimeUnit.SECONDS.toNanos(10));
    }

    @Test
    void resultsReachTheRequestThatSentEachRowWhenManyThreadsSubmit() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(32, 4096, Duration.ofMillis(3)),
                new EngineStats(), "test")) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<Integer>> checked = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                checked.add(pool.submit(() -> {
                    Random random = new Random(thread);
                    int rowsChecked = 0;
                    for (int r = 0; r < 50; r++) {
                        List<Encoded> rows = new ArrayList<>();
                        for (int i = 0; i < 1 + random.nextInt(12); i++) {
                            rows.add(row(thread * 100_000L + r * 100L + i, 1 + random.nextInt(40)));
                        }
                        float[][] out = batcher.submit(rows).get(30, TimeUnit.SECONDS);
                        assertEquals(rows.size(), out.length);
                        for (int i = 0; i < rows.size(); i++) {
                            assertEquals(expected(rows.get(i)), out[i][0], 0.0);
                            rowsChecked++;
                        }
                    }
                    return rowsChecked;
                }));
            }
            int total = 0;
            for (Future<Integer> f : checked) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(total > 8 * 50);
        }
        assertTrue(model.shapes.stream().anyMatch(s -> s[0] > 12), "rows of several requests shared a batch");
    }

    @Test
    void aFailingBatchFailsOnlyTheRequestWithTheBadRow() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        model.poison = 666;
        EngineStats stats = new EngineStats();
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(64, 100_000, Duration.ofMillis(300)),
                stats, "test")) {
            List<CompletableFuture<float[][]>> good = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                good.add(batcher.submit(List.of(row(10 + i, 5), row(20 + i, 7))));
            }
            CompletableFuture<float[][]> bad = batcher.submit(List.of(row(30, 5), row(666, 5)));
            for (CompletableFuture<float[][]> f : good) {
                assertEquals(2, f.get(10, TimeUnit.SECONDS).length);
            }
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(10, TimeUnit.SECONDS));
            assertInstanceOf(InferenceException.class, e.getCause());
        }
        assertTrue(stats.snapshot().failedBatches() >= 2, "the shared batch failed and was split");
        assertTrue(model.shapes.get(0)[0] == 12, "all six requests shared the first batch");
    }

    @Test
    void closingFailsWhatIsStillQueued() {
        DynamicBatcher batcher = new DynamicBatcher(new RecordingRowModel(),
                new DynamicBatcher.Options(64, 100_000, Duration.ofSeconds(30)), new EngineStats(), "test");
        batcher.close();
        CompletableFuture<float[][]> late = batcher.submit(List.of(row(1, 2)));
        assertTrue(late.isCompletedExceptionally());
    }

    /**
     * A fake for faults a real session cannot be made to have on demand: it throws what it is told to,
     * gives NaN for a marked row, or hangs until it is told to terminate.
     */
    private static final class FaultInjectingRowModel implements RowModel {
        volatile Throwable throwOnce;
        volatile boolean broken;
        volatile long nanId = -1;
        volatile boolean hangOnce;
        final java.util.concurrent.CountDownLatch terminated = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public float[][] run(List<Encoded> rows) {
            calls.incrementAndGet();
            Throwable t = throwOnce;
            if (t != null) {
                throwOnce = null;
                if (t instanceof Error error) {
                    throw error;
                }
                throw (RuntimeException) t;
            }
            if (broken) {
                throw new InferenceException("injected device fault", new RuntimeException());
            }
            if (hangOnce) {
                hangOnce = false;
                try {
                    // Hangs like a stuck device until terminated; the bound only keeps a broken test from hanging forever.
                    terminated.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new InferenceException("terminated", new RuntimeException());
            }
            float[][] out = new float[rows.size()][1];
            for (int i = 0; i < rows.size(); i++) {
                out[i][0] = rows.get(i).ids()[0] == nanId ? Float.NaN : expected(rows.get(i));
            }
            return out;
        }

        @Override
        public void cancelRunning() {
            terminated.countDown();
        }

        @Override
        public void close() {
        }
    }

    private static final List<Encoded> PROBE = List.of(row(7, 3));

    @Test
    void anOutOfMemoryErrorFromTheModelFailsItsRequestAndTheWorkerGoesOn() throws Exception {
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.throwOnce = new OutOfMemoryError("Direct buffer memory");
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(8, 1000, Duration.ofMillis(1)),
                new EngineStats(), "test", PROBE)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> batcher.submit(List.of(row(5, 2))).get(30, TimeUnit.SECONDS));
            assertTrue(String.valueOf(e.getCause()).contains("Direct buffer memory") || String.valueOf(e.getCause().getCause()).contains("Direct buffer memory"),
                    "the failure names the error: " + e.getCause());
            assertEquals(7f, batcher.submit(List.of(row(5, 3))).get(30, TimeUnit.SECONDS)[0][0], 0f, "the worker still runs batches");
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state());
        }
    }

    @Test
    void aFatalErrorFailsEveryPendingRequestAndLaterSubmitsAreRefusedAtOnce() throws Exception {
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.throwOnce = new InternalError("injected: the native runtime is broken");
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(8, 1000, Duration.ofMillis(200)),
                new EngineStats(), "test", PROBE)) {
            CompletableFuture<float[][]> first = batcher.submit(List.of(row(5, 2)));
            CompletableFuture<float[][]> second = batcher.submit(List.of(row(6, 2)));
            for (CompletableFuture<float[][]> f : List.of(first, second)) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                assertInstanceOf(ModelUnavailableException.class, e.getCause());
            }
            CompletableFuture<float[][]> late = batcher.submit(List.of(row(8, 2)));
            assertTrue(late.isCompletedExceptionally(), "refused at once, not queued for a worker that is gone");
            ExecutionException e = assertThrows(ExecutionException.class, late::get);
            assertTrue(e.getCause().getMessage().contains("died"), e.getCause().getMessage());
            assertEquals(ModelHealth.State.DEAD, batcher.health().state());
        }
    }

    @Test
    void aNonFiniteOutputFailsOnlyItsOwnRequest() throws Exception {
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.nanId = 666;
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(64, 100_000, Duration.ofMillis(300)),
                new EngineStats(), "test", PROBE)) {
            CompletableFuture<float[][]> good = batcher.submit(List.of(row(10, 3), row(11, 3)));
            CompletableFuture<float[][]> bad = batcher.submit(List.of(row(12, 3), row(666, 3)));
            assertEquals(12f, good.get(30, TimeUnit.SECONDS)[0][0], 0f);
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(30, TimeUnit.SECONDS));
            assertInstanceOf(NonFiniteScoreException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("NaN"), e.getCause().getMessage());
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state(), "one bad row is no model fault");
        }
    }

    @Test
    void aHungCallFailsItsBatchWithATimeoutIsToldToTerminateAndLaterBatchesRun() throws Exception {
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.hangOnce = true;
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ofMillis(1))
                .withHealth(Duration.ofSeconds(2), 3, Duration.ofSeconds(5));
        try (DynamicBatcher batcher = new DynamicBatcher(model, options, new EngineStats(), "test", PROBE)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> batcher.submit(List.of(row(5, 2))).get(60, TimeUnit.SECONDS));
            assertInstanceOf(InferenceTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("inference.batch.timeout.ms"), e.getCause().getMessage());
            assertTrue(model.terminated.await(30, TimeUnit.SECONDS), "the hung call was told to terminate");
            assertEquals(6f, batcher.submit(List.of(row(5, 2))).get(30, TimeUnit.SECONDS)[0][0], 0f, "later batches still run");
        }
    }

    @Test
    void modelFaultsInARowOpenTheBreakerWhichRefusesAtOnceUntilAProbeSucceeds() throws Exception {
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.broken = true;
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ofMillis(1))
                .withHealth(Duration.ofSeconds(30), 2, Duration.ofMillis(200));
        try (DynamicBatcher batcher = new DynamicBatcher(model, options, new EngineStats(), "test", PROBE)) {
            for (int i = 0; i < 2; i++) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> batcher.submit(List.of(row(5, 2))).get(30, TimeUnit.SECONDS));
                assertInstanceOf(ModelUnavailableException.class, e.getCause(), "the probe failed too: the model's fault, transient");
            }
            assertEquals(ModelHealth.State.UNAVAILABLE, batcher.health().state());
            assertTrue(!batcher.health().accepting());
            CompletableFuture<float[][]> refused = batcher.submit(List.of(row(5, 2)));
            assertTrue(refused.isCompletedExceptionally(), "refused at once while open");
            assertInstanceOf(ModelUnavailableException.class, assertThrows(ExecutionException.class, refused::get).getCause());

            model.broken = false;
            // The worker probes on its own after the backoff: no new input is needed to recover.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!batcher.health().accepting() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state());
            assertEquals(7f, batcher.submit(List.of(row(5, 3))).get(30, TimeUnit.SECONDS)[0][0], 0f);
        }
    }

    @Test
    void aBadRowWhileTheModelWorksIsPermanentAndNeverOpensTheBreaker() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        model.poison = 666;
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ofMillis(1))
                .withHealth(Duration.ofSeconds(30), 2, Duration.ofSeconds(60));
        try (DynamicBatcher batcher = new DynamicBatcher(model, options, new EngineStats(), "test", PROBE)) {
            for (int i = 0; i < 4; i++) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> batcher.submit(List.of(row(666, 2))).get(30, TimeUnit.SECONDS));
                assertTrue(!(e.getCause() instanceof ModelUnavailableException), "the probe succeeded: the row is at fault " + e.getCause());
            }
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state());
        }
    }

    /** Blocks its first call until released; records each batch's request ids (a row's first id / 100) and the thread. */
    private static final class GatedRowModel implements RowModel {
        final java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        final List<java.util.Set<Long>> batches = Collections.synchronizedList(new ArrayList<>());
        final java.util.Set<String> runThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private volatile boolean first = true;

        @Override
        public float[][] run(List<Encoded> rows) {
            runThreads.add(Thread.currentThread().getName());
            if (first) {
                first = false;
                entered.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            java.util.Set<Long> requests = new java.util.TreeSet<>();
            float[][] out = new float[rows.size()][1];
            for (int i = 0; i < rows.size(); i++) {
                requests.add(rows.get(i).ids()[0] / 100);
                out[i][0] = rows.get(i).ids()[0];
            }
            batches.add(requests);
            return out;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void noRequestWaitsBehindMoreThanOnePoolEvenWhenLaterRequestsAreShorter() throws Exception {
        GatedRowModel model = new GatedRowModel();
        // 4 rows a batch, so a pool is POOL_BATCHES × 4 = 16 rows: four of the requests below.
        int poolRequests = DynamicBatcher.POOL_BATCHES;
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(4, 100_000, Duration.ofMillis(1)),
                new EngineStats(), "test")) {
            CompletableFuture<float[][]> blocker = batcher.submit(List.of(row(9_900, 3)));
            assertTrue(model.entered.await(30, TimeUnit.SECONDS));
            List<CompletableFuture<float[][]>> futures = new ArrayList<>();
            int requests = 3 * poolRequests;
            for (int r = 0; r < requests; r++) {
                List<Encoded> rows = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    // Later requests are shorter: sorting the whole backlog by length would run them first.
                    rows.add(row(100L * (r + 1) + i, 60 - 4 * r));
                }
                futures.add(batcher.submit(rows));
            }
            model.release.countDown();
            blocker.get(30, TimeUnit.SECONDS);
            for (int r = 0; r < requests; r++) {
                assertEquals(100f * (r + 1) + 3, futures.get(r).get(30, TimeUnit.SECONDS)[3][0], 0f, "results to the right caller");
            }
            // Request r (ids 100(r+1)..) belongs to pool r / poolRequests: every batch of an earlier pool ran first.
            int lastPool = -1;
            for (java.util.Set<Long> batch : model.batches.subList(1, model.batches.size())) {
                int minPool = Integer.MAX_VALUE;
                int maxPool = -1;
                for (long request : batch) {
                    int pool = (int) (request - 1) / poolRequests;
                    minPool = Math.min(minPool, pool);
                    maxPool = Math.max(maxPool, pool);
                }
                assertEquals(minPool, maxPool, "a batch mixes pools: " + model.batches);
                assertTrue(minPool >= lastPool, "a later pool ran before an earlier one: " + model.batches);
                lastPool = minPool;
            }
            assertEquals(2, lastPool, "three pools: " + model.batches);
        }
    }

    @Test
    void callbacksRunOnTheFinisherThreadNeverOnTheRunThread() throws Exception {
        GatedRowModel model = new GatedRowModel();
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(4, 100_000, Duration.ofMillis(1)),
                new EngineStats(), "test")) {
            CompletableFuture<float[][]> blocker = batcher.submit(List.of(row(100, 3)));
            assertTrue(model.entered.await(30, TimeUnit.SECONDS));
            List<String> callbackThreads = Collections.synchronizedList(new ArrayList<>());
            // Attached while the model is held, so the callbacks run where the futures are completed.
            List<CompletableFuture<float[][]>> callbacks = new ArrayList<>();
            callbacks.add(blocker.whenComplete((out, failure) -> callbackThreads.add(Thread.currentThread().getName())));
            for (int r = 0; r < 6; r++) {
                callbacks.add(batcher.submit(List.of(row(200 + r, 5), row(300 + r, 7)))
                        .whenComplete((out, failure) -> callbackThreads.add(Thread.currentThread().getName())));
            }
            model.release.countDown();
            for (CompletableFuture<float[][]> f : callbacks) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(7, callbackThreads.size());
            assertTrue(model.runThreads.stream().allMatch(t -> t.startsWith("inference-test-run-")), model.runThreads.toString());
            for (String thread : callbackThreads) {
                assertEquals("inference-test-finish", thread, "a callback ran on " + thread + " (run threads: " + model.runThreads + ")");
            }
        }
    }
}
