package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the rows of requests from any number of threads into batches for one model, on one worker
 * thread: rows are sorted by length so each batch pads little, each batch stays within a row cap and
 * a token budget (rows × padded length), and a lone request waits at most {@code maxDelay} for company.
 * A failing batch is split in halves and retried, so one bad row fails only its own request.
 */
final class DynamicBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DynamicBatcher.class);

    /**
     * @param maxRows   most rows in one run
     * @param maxTokens most rows × padded length in one run
     * @param maxDelay  how long the worker waits for more rows before running a batch that is not full
     * @param maxPaddingRatio most padded over real tokens in one batch
     */
    record Options(int maxRows, int maxTokens, Duration maxDelay, double maxPaddingRatio) {

        Options(int maxRows, int maxTokens, Duration maxDelay) {
            this(maxRows, maxTokens, maxDelay, Double.POSITIVE_INFINITY);
        }
    }

    private static final class Request {
        final float[][] outputs;
        final CompletableFuture<float[][]> future = new CompletableFuture<>();
        int remaining;

        Request(int rows) {
            outputs = new float[rows][];
            remaining = rows;
        }
    }

    private record Row(Request request, int index, Encoded encoded, long enqueuedNanos) {}

    private final RowModel model;
    private final Options options;
    private final EngineStats stats;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<Row> queue = new ArrayDeque<>();
    private int queuedMaxLength;
    private boolean running = true;
    private final Thread worker;

    DynamicBatcher(RowModel model, Options options, EngineStats stats, String name) {
        this.model = model;
        this.options = options;
        this.stats = stats;
        this.worker = new Thread(this::work, "inference-" + name);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    CompletableFuture<float[][]> submit(List<Encoded> rows) {
        Request request = new Request(rows.size());
        if (rows.isEmpty()) {
            request.future.complete(new float[0][]);
            return request.future;
        }
        long now = System.nanoTime();
        lock.lock();
        try {
            if (!running) {
                request.future.completeExceptionally(new IllegalStateException("the inference engine is closed"));
                return request.future;
            }
            for (int i = 0; i < rows.size(); i++) {
                queue.add(new Row(request, i, rows.get(i), now));
                queuedMaxLength = Math.max(queuedMaxLength, rows.get(i).length());
            }
            arrived.signal();
        } finally {
            lock.unlock();
        }
        return request.future;
    }

    private void work() {
        while (true) {
            List<Row> pool;
            lock.lock();
            try {
                while (running && queue.isEmpty()) {
                    arrived.awaitUninterruptibly();
                }
                if (!running) {
                    return;
                }
                // Wait for company only while no full batch is queued, and never past the oldest row's delay.
                long deadline = queue.peekFirst().enqueuedNanos() + options.maxDelay().toNanos();
                while (running && !fullBatchQueued()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        arrived.awaitNanos(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                pool = new ArrayList<>(queue);
                queue.clear();
                queuedMaxLength = 0;
            } finally {
                lock.unlock();
            }
            runPool(pool);
        }
    }

    private boolean fullBatchQueued() {
        return queue.size() >= options.maxRows() || (long) queue.size() * queuedMaxLength >= options.maxTokens();
    }

    private void runPool(List<Row> pool) {
        int[] lengths = new int[pool.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = pool.get(i).encoded().length();
        }
        for (int[] planned : BatchPlanner.plan(lengths, options.maxRows(), options.maxTokens(), options.maxPaddingRatio())) {
            List<Row> batch = new ArrayList<>(planned.length);
            long start = System.nanoTime();
            for (int index : planned) {
                Row row = pool.get(index);
                if (!row.request().future.isDone()) {
                    batch.add(row);
                    stats.recordQueueDelay(start - row.enqueuedNanos());
                }
            }
            if (!batch.isEmpty()) {
                runSplittingOnFailure(batch);
            }
        }
    }

    private void runSplittingOnFailure(List<Row> batch) {
        List<Encoded> encoded = new ArrayList<>(batch.size());
        long real = 0;
        int width = 0;
        for (Row row : batch) {
            encoded.add(row.encoded());
            real += row.encoded().length();
            width = Math.max(width, row.encoded().length());
        }
        float[][] outputs;
        long start = System.nanoTime();
        try {
            outputs = model.run(encoded);
        } catch (RuntimeException e) {
            stats.recordFailedBatch();
            if (batch.size() == 1) {
                LOG.warn("A row failed alone; its request fails: {}", e.getMessage());
                batch.get(0).request().future.completeExceptionally(e);
                return;
            }
            LOG.warn("A batch of {} rows failed; retrying it in halves: {}", batch.size(), e.getMessage());
            int half = batch.size() / 2;
            runSplittingOnFailure(batch.subList(0, half));
            runSplittingOnFailure(batch.subList(half, batch.size()));
            return;
        }
        stats.recordBatch(batch.size(), real, (long) width * batch.size(), System.nanoTime() - start);
        for (int i = 0; i < batch.size(); i++) {
            Row row = batch.get(i);
            Request request = row.request();
            request.outputs[row.index()] = outputs[i];
            if (--request.remaining == 0) {
                request.future.complete(request.outputs);
            }
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            running = false;
            arrived.signalAll();
            for (Row row : queue) {
                row.request().future.completeExceptionally(new IllegalStateException("the inference engine was closed"));
            }
            queue.clear();
        } finally {
            lock.unlock();
        }
        try {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
