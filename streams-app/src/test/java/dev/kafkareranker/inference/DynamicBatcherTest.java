package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The batcher's contract with a row model that records what it was given (the ONNX side is tested
 * with real sessions elsewhere): budgets, delays, routing of results, and failure isolation. Delays,
 * timeouts and backoffs pass on a {@link FakeClock} the test moves, never on the machine's.
 */
class DynamicBatcherTest {

    /** Bounds only a hang of a broken batcher; a passing test never comes near it. */
    private static final long HANG_SECONDS = Await.HANG.toSeconds();

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

    static Encoded row(long first, int length) {
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

    /** A sizer of rows and tokens alone that records what the batcher told it. */
    private static final class RecordingSizer implements BatchSizer {
        final BatchSizer budget;
        final List<String> told = Collections.synchronizedList(new ArrayList<>());

        RecordingSizer(DynamicBatcher.Options options) {
            budget = BatchSizer.tokenBudget(options.maxRows(), options.maxTokens(), Double.POSITIVE_INFINITY);
        }

        @Override
        public List<int[]> plan(int[] lengths) {
            return budget.plan(lengths);
        }

        @Override
        public void allocationFailed(int rows, int width) {
            told.add("failed " + rows + "x" + width);
        }

        @Override
        public void ran(int rows, int width) {
            told.add("ran " + rows + "x" + width);
        }
    }

    private static DynamicBatcher batcher(RowModel model, DynamicBatcher.Options options, EngineStats stats, List<Encoded> probe,
                                          EngineClock clock) {
        return new DynamicBatcher(model, options, new RecordingSizer(options), stats, "test", probe, new ModelReferences("test", model), clock);
    }

    private static DynamicBatcher batcher(RowModel model, DynamicBatcher.Options options, EngineClock clock) {
        return batcher(model, options, new EngineStats(), List.of(), clock);
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(HANG_SECONDS, TimeUnit.SECONDS);
    }

    private static Throwable failure(CompletableFuture<?> future) {
        return assertThrows(ExecutionException.class, () -> future.get(HANG_SECONDS, TimeUnit.SECONDS)).getCause();
    }

    @Test
    void neverExceedsTheTokenBudgetOrRowCapUnderConcurrentLoad() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        DynamicBatcher.Options options = new DynamicBatcher.Options(16, 1024, Duration.ofMillis(5));
        try (DynamicBatcher batcher = batcher(model, options, EngineClock.SYSTEM)) {
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
                f.get(HANG_SECONDS, TimeUnit.SECONDS);
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
    void aLoneRequestWaitsTheMaximumDelayForCompanyAndNoLonger() throws Exception {
        FakeClock clock = new FakeClock();
        EngineStats stats = new EngineStats();
        Duration maxDelay = Duration.ofMillis(100);
        try (DynamicBatcher batcher = batcher(new RecordingRowModel(), new DynamicBatcher.Options(64, 100_000, maxDelay), stats,
                List.of(), clock)) {
            CompletableFuture<float[][]> lone = batcher.submit(List.of(row(3, 4)));
            clock.advance(maxDelay);
            assertEquals(6f, get(lone)[0][0], 0f);
        }
        // Frozen time: taken when the clock reached the delay, not before (0 ms) and not after.
        assertEquals(maxDelay.toNanos(), stats.snapshot().queueDelayNanosMax());
    }

    @Test
    void aFullBatchDoesNotWaitForTheDelay() throws Exception {
        EngineStats stats = new EngineStats();
        try (DynamicBatcher batcher = batcher(new RecordingRowModel(), new DynamicBatcher.Options(8, 100_000, Duration.ofSeconds(30)),
                stats, List.of(), new FakeClock())) {
            List<Encoded> rows = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                rows.add(row(i, 3));
            }
            get(batcher.submit(rows));
        }
        assertEquals(0, stats.snapshot().queueDelayNanosMax(), "ran with the clock standing still");
    }

    @Test
    void rowsOfRequestsQueuedWithinTheDelayShareOneBatch() throws Exception {
        FakeClock clock = new FakeClock();
        RecordingRowModel model = new RecordingRowModel();
        try (DynamicBatcher batcher = batcher(model, new DynamicBatcher.Options(64, 100_000, Duration.ofMillis(300)), clock)) {
            List<CompletableFuture<float[][]>> futures = new ArrayList<>();
            for (int r = 0; r < 6; r++) {
                futures.add(batcher.submit(List.of(row(100 * r, 5), row(100 * r + 1, 7))));
            }
            clock.advance(Duration.ofMillis(300));
            for (int r = 0; r < 6; r++) {
                float[][] out = get(futures.get(r));
                assertEquals(100 * r + 4, out[0][0], 0f, "request " + r + " got its own rows' outputs");
                assertEquals(100 * r + 1 + 6, out[1][0], 0f);
            }
        }
        assertEquals(1, model.shapes.size(), "one batch");
        assertEquals(12, model.shapes.get(0)[0], "of all six requests' rows");
    }

    @Test
    void resultsReachTheRequestThatSentEachRowWhenManyThreadsSubmit() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        try (DynamicBatcher batcher = batcher(model, new DynamicBatcher.Options(32, 4096, Duration.ofMillis(3)), EngineClock.SYSTEM)) {
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
                        float[][] out = get(batcher.submit(rows));
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
                total += f.get(HANG_SECONDS, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(total > 8 * 50);
        }
    }

    @Test
    void aFailingBatchFailsOnlyTheRequestWithTheBadRow() throws Exception {
        FakeClock clock = new FakeClock();
        RecordingRowModel model = new RecordingRowModel();
        model.poison = 666;
        EngineStats stats = new EngineStats();
        try (DynamicBatcher batcher = batcher(model, new DynamicBatcher.Options(64, 100_000, Duration.ofMillis(300)), stats,
                List.of(), clock)) {
            List<CompletableFuture<float[][]>> good = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                good.add(batcher.submit(List.of(row(10 + i, 5), row(20 + i, 7))));
            }
            CompletableFuture<float[][]> bad = batcher.submit(List.of(row(30, 5), row(666, 5)));
            clock.advance(Duration.ofMillis(300));
            for (CompletableFuture<float[][]> f : good) {
                assertEquals(2, get(f).length);
            }
            Throwable e = failure(bad);
            assertInstanceOf(InferenceException.class, e);
            assertFalse(e instanceof ModelUnavailableException, "a bad row is permanent: " + e);
        }
        assertTrue(stats.snapshot().failedBatches() >= 2, "the shared batch failed and was split");
        assertEquals(12, model.shapes.get(0)[0], "all six requests shared the first batch");
    }

    @Test
    void closingFailsWhatIsStillQueuedAndRefusesLaterWork() throws Exception {
        DynamicBatcher batcher = batcher(new RecordingRowModel(), new DynamicBatcher.Options(64, 100_000, Duration.ofSeconds(30)),
                new FakeClock());
        CompletableFuture<float[][]> queued = batcher.submit(List.of(row(1, 2)));
        batcher.close();
        Throwable e = failure(queued);
        assertInstanceOf(ModelUnavailableException.class, e, "transient: another version or a restart scores it");
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        CompletableFuture<float[][]> late = batcher.submit(List.of(row(1, 2)));
        assertTrue(late.isCompletedExceptionally(), "refused at once");
        assertEquals(0, batcher.heldRows(), "nothing left counted against the bound");
    }

    @Test
    void theQueueSaysItHasNoRoomAtItsBoundTakesWorkAnywayAndHasRoomOnceAPoolIsTaken() throws Exception {
        FakeClock clock = new FakeClock();
        DynamicBatcher.Options options = new DynamicBatcher.Options(64, 100_000, Duration.ofMillis(50)).withMaxQueuedRows(8);
        try (DynamicBatcher batcher = batcher(new RecordingRowModel(), options, clock)) {
            assertTrue(batcher.hasRoom());
            CompletableFuture<float[][]> first = batcher.submit(List.of(row(1, 2), row(2, 2), row(3, 2), row(4, 2), row(5, 2)));
            assertTrue(batcher.hasRoom(), "5 of 8 rows held");
            assertEquals(null, batcher.admit(3), "admitted before tokenizing: counted at once");
            assertFalse(batcher.hasRoom(), "8 of 8 rows held");
            CompletableFuture<float[][]> beyond = batcher.submit(List.of(row(6, 2), row(7, 2), row(8, 2), row(9, 2)), 3);
            assertEquals(9, batcher.heldRows(), "taken anyway: the bound is soft, and the 4th row of an admitted 3 counts");
            clock.advance(Duration.ofMillis(50));
            assertEquals(2f, get(first)[0][0], 0f, "row (1, 1)");
            assertEquals(4, get(beyond).length, "work beyond the bound is scored, never refused");
            assertTrue(batcher.hasRoom(), "the pool was taken");
            assertEquals(0, batcher.heldRows());
        }
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
        final CountDownLatch hanging = new CountDownLatch(1);
        final CountDownLatch terminated = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();

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
                hanging.countDown();
                await(terminated);
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

    static void await(CountDownLatch latch) {
        try {
            // Hangs like a stuck device until released; the bound only keeps a broken test from hanging forever.
            latch.await(HANG_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final List<Encoded> PROBE = List.of(row(7, 3));

    @Test
    void aSingleRowOutOfMemoryFailsTransientlyTellsTheSizerNeverProbesAndTheWorkerGoesOn() throws Exception {
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.throwOnce = new OutOfMemoryError("Direct buffer memory");
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ZERO);
        RecordingSizer sizer = new RecordingSizer(options);
        try (DynamicBatcher batcher = new DynamicBatcher(model, options, sizer, new EngineStats(), "test", PROBE,
                new ModelReferences("test", model), new FakeClock())) {
            Throwable e = failure(batcher.submit(List.of(row(5, 2))));
            assertInstanceOf(ModelUnavailableException.class, e, "the device's fault, not the row's: scored again later");
            assertTrue(String.valueOf(e.getMessage()).contains("Direct buffer memory"), "the failure names the error: " + e);
            assertEquals(List.of("failed 1x2"), sizer.told);
            assertEquals(7f, get(batcher.submit(List.of(row(5, 3))))[0][0], 0f, "the worker still runs batches");
            assertEquals(2, model.calls.get(), "no probe: running out of memory says nothing about the model");
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state());
        }
    }

    @Test
    void aBatchThatRunsOutOfMemoryIsRetriedInHalvesAndEveryRequestIsScored() throws Exception {
        FakeClock clock = new FakeClock();
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        // As ONNX Runtime's arena says it, inside the row model's own exception.
        model.throwOnce = new InferenceException("ONNX Runtime failed: Failed to allocate memory for requested buffer of size 1073741824",
                new RuntimeException());
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ofMillis(10));
        RecordingSizer sizer = new RecordingSizer(options);
        try (DynamicBatcher batcher = new DynamicBatcher(model, options, sizer, new EngineStats(), "test", PROBE,
                new ModelReferences("test", model), clock)) {
            List<CompletableFuture<float[][]>> futures = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                futures.add(batcher.submit(List.of(row(10 + r, 3 + r))));
            }
            clock.advance(Duration.ofMillis(10));
            for (int r = 0; r < 4; r++) {
                assertEquals(10 + r + 2 + r, get(futures.get(r))[0][0], 0f);
            }
            // Told on the worker, which may still be at it when the finisher has answered the requests.
            Await.until(() -> sizer.told.size() == 3, () -> "the sizer was told of the failure and of both halves: " + sizer.told);
            assertEquals("failed 4x6", sizer.told.get(0), sizer.told.toString());
            assertEquals(List.of("ran 2x4", "ran 2x6"), sizer.told.subList(1, sizer.told.size()).stream().sorted().toList());
            assertEquals(3, model.calls.get(), "the batch, then its two halves; no probe");
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state());
        }
    }

    @Test
    void aFatalErrorFailsEveryPendingRequestAndLaterSubmitsAreRefusedAtOnce() throws Exception {
        FakeClock clock = new FakeClock();
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.throwOnce = new InternalError("injected: the native runtime is broken");
        ModelReferences references = new ModelReferences("test", model);
        try (DynamicBatcher batcher = new DynamicBatcher(model, new DynamicBatcher.Options(8, 1000, Duration.ofMillis(200)),
                new RecordingSizer(new DynamicBatcher.Options(8, 1000, Duration.ZERO)), new EngineStats(), "test", PROBE, references, clock)) {
            CompletableFuture<float[][]> first = batcher.submit(List.of(row(5, 2)));
            CompletableFuture<float[][]> second = batcher.submit(List.of(row(6, 2)));
            clock.advance(Duration.ofMillis(200));
            for (CompletableFuture<float[][]> f : List.of(first, second)) {
                assertInstanceOf(ModelUnavailableException.class, failure(f));
            }
            CompletableFuture<float[][]> late = batcher.submit(List.of(row(8, 2)));
            assertTrue(late.isCompletedExceptionally(), "refused at once, not queued for a worker that is gone");
            Throwable e = failure(late);
            assertTrue(e.getMessage().contains("died"), e.getMessage());
            assertEquals(ModelHealth.State.DEAD, batcher.health().state());
            Await.until(() -> references.count() == 1, () -> "the dead worker released its reference: " + references.count());
        }
    }

    @Test
    void aNonFiniteOutputFailsOnlyItsOwnRequest() throws Exception {
        FakeClock clock = new FakeClock();
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.nanId = 666;
        try (DynamicBatcher batcher = batcher(model, new DynamicBatcher.Options(64, 100_000, Duration.ofMillis(300)), new EngineStats(),
                PROBE, clock)) {
            CompletableFuture<float[][]> good = batcher.submit(List.of(row(10, 3), row(11, 3)));
            CompletableFuture<float[][]> bad = batcher.submit(List.of(row(12, 3), row(666, 3)));
            clock.advance(Duration.ofMillis(300));
            assertEquals(12f, get(good)[0][0], 0f);
            Throwable e = failure(bad);
            assertInstanceOf(NonFiniteScoreException.class, e);
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state(), "one bad row is no model fault");
        }
    }

    @Test
    void aHungCallFailsItsBatchWithATimeoutIsToldToTerminateAndLaterBatchesRun() throws Exception {
        FakeClock clock = new FakeClock();
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.hangOnce = true;
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ZERO)
                .withHealth(Duration.ofSeconds(2), 3, Duration.ofSeconds(5));
        try (DynamicBatcher batcher = batcher(model, options, new EngineStats(), PROBE, clock)) {
            CompletableFuture<float[][]> hung = batcher.submit(List.of(row(5, 2)));
            await(model.hanging);
            assertFalse(hung.isDone(), "the clock has not moved: no timeout yet");
            clock.advance(Duration.ofSeconds(2));
            Throwable e = failure(hung);
            assertInstanceOf(InferenceTimeoutException.class, e);
            assertTrue(e.getMessage().contains("inference.batch.timeout.ms"), e.getMessage());
            assertEquals(0, model.terminated.getCount(), "the hung call was told to terminate");
            assertEquals(6f, get(batcher.submit(List.of(row(5, 2))))[0][0], 0f, "later batches still run");
        }
    }

    @Test
    void modelFaultsInARowOpenTheBreakerWhichRefusesAtOnceUntilItsOwnProbeSucceeds() throws Exception {
        FakeClock clock = new FakeClock();
        FaultInjectingRowModel model = new FaultInjectingRowModel();
        model.broken = true;
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ZERO)
                .withHealth(Duration.ofSeconds(30), 2, Duration.ofMillis(200));
        try (DynamicBatcher batcher = batcher(model, options, new EngineStats(), PROBE, clock)) {
            for (int i = 0; i < 2; i++) {
                assertInstanceOf(ModelUnavailableException.class, failure(batcher.submit(List.of(row(5, 2)))),
                        "the probe failed too: the model's fault, transient");
            }
            assertEquals(ModelHealth.State.UNAVAILABLE, batcher.health().state());
            assertFalse(batcher.health().accepting());
            CompletableFuture<float[][]> refused = batcher.submit(List.of(row(5, 2)));
            assertTrue(refused.isCompletedExceptionally(), "refused at once while open");
            assertInstanceOf(ModelUnavailableException.class, failure(refused));

            model.broken = false;
            int callsBefore = model.calls.get();
            clock.advance(Duration.ofMillis(199));
            assertEquals(ModelHealth.State.UNAVAILABLE, batcher.health().state(), "still within the backoff");
            clock.advance(Duration.ofMillis(1));
            // The worker probes on its own after the backoff: no new input is needed to recover.
            Await.until(() -> batcher.health().accepting(), () -> "the breaker closed: " + batcher.health());
            assertEquals(callsBefore + 1, model.calls.get(), "one probe closed it");
            assertEquals(7f, get(batcher.submit(List.of(row(5, 3))))[0][0], 0f);
        }
    }

    @Test
    void aBadRowWhileTheModelWorksIsPermanentAndNeverOpensTheBreaker() throws Exception {
        RecordingRowModel model = new RecordingRowModel();
        model.poison = 666;
        DynamicBatcher.Options options = new DynamicBatcher.Options(8, 1000, Duration.ZERO)
                .withHealth(Duration.ofSeconds(30), 2, Duration.ofSeconds(60));
        try (DynamicBatcher batcher = batcher(model, options, new EngineStats(), PROBE, new FakeClock())) {
            for (int i = 0; i < 4; i++) {
                Throwable e = failure(batcher.submit(List.of(row(666, 2))));
                assertFalse(e instanceof ModelUnavailableException, "the probe succeeded: the row is at fault " + e);
            }
            assertEquals(ModelHealth.State.HEALTHY, batcher.health().state());
        }
    }

    /** Blocks its first call until released; records each batch's request ids (a row's first id / 100) and the thread. */
    private static final class GatedRowModel implements RowModel {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<java.util.Set<Long>> batches = Collections.synchronizedList(new ArrayList<>());
        final java.util.Set<String> runThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private volatile boolean first = true;

        @Override
        public float[][] run(List<Encoded> rows) {
            runThreads.add(Thread.currentThread().getName());
            if (first) {
                first = false;
                entered.countDown();
                await(release);
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
        FakeClock clock = new FakeClock();
        GatedRowModel model = new GatedRowModel();
        // 4 rows a batch, so a pool is POOL_BATCHES × 4 = 16 rows: four of the requests below.
        int poolRequests = DynamicBatcher.POOL_BATCHES;
        try (DynamicBatcher batcher = batcher(model, new DynamicBatcher.Options(4, 100_000, Duration.ofMillis(1)), clock)) {
            CompletableFuture<float[][]> blocker = batcher.submit(List.of(row(9_900, 3)));
            clock.advance(Duration.ofMillis(1));
            await(model.entered);
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
            get(blocker);
            for (int r = 0; r < requests; r++) {
                assertEquals(100f * (r + 1) + 3, get(futures.get(r))[3][0], 0f, "results to the right caller");
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
        FakeClock clock = new FakeClock();
        GatedRowModel model = new GatedRowModel();
        try (DynamicBatcher batcher = batcher(model, new DynamicBatcher.Options(4, 100_000, Duration.ofMillis(1)), clock)) {
            CompletableFuture<float[][]> blocker = batcher.submit(List.of(row(100, 3)));
            clock.advance(Duration.ofMillis(1));
            await(model.entered);
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
                get(f);
            }
            assertEquals(7, callbackThreads.size());
            assertTrue(model.runThreads.stream().allMatch(t -> t.startsWith("inference-test-run-")), model.runThreads.toString());
            for (String thread : callbackThreads) {
                assertEquals("inference-test-finish", thread, "a callback ran on " + thread + " (run threads: " + model.runThreads + ")");
            }
        }
    }
}
