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
}
