package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watchdog-runner: each model call runs on a run thread while the batching loop waits for it, at most
 * the batch timeout. A call that runs longer is abandoned: it is asked to terminate
 * ({@link RowModel#cancelRunning()}), its batch fails, and later calls run on a fresh thread.
 *
 * <p>Every call holds a reference to the model's natives ({@link ModelReferences}) and its input
 * tensors until it returns, on its own run thread, whether or not anyone still waits for it: an
 * abandoned call that returns late closes its inputs then, and a version retired meanwhile is closed
 * only after that.
 */
final class ModelCaller {

    private static final Logger LOG = LoggerFactory.getLogger(ModelCaller.class);

    /**
     * What one model call gave: outputs, or the failure and whether it was a timeout; for a call that ran, when it
     * started and when its outputs were in (the engine's clock), which traced requests take over ({@link StageTimes}).
     */
    record Attempt(float[][] outputs, Throwable failure, boolean timedOut, long startNanos, long endNanos) {

        Attempt(float[][] outputs, Throwable failure, boolean timedOut) {
            this(outputs, failure, timedOut, 0, 0);
        }

        static Attempt failed(Throwable failure) {
            return new Attempt(null, failure, false);
        }

        boolean succeeded() {
            return failure == null;
        }
    }

    /** A call handed to the run thread. */
    record Call(List<Encoded> rows, CompletableFuture<float[][]> result, long startNanos) {}

    private final RowModel model;
    private final String name;
    private final long timeoutNanos;
    private final Duration timeout;
    private final EngineStats stats;
    private final ModelReferences references;
    private final EngineClock clock;
    private final Supplier<ExecutorService> runners;
    /** Runs model calls; replaced when a call is abandoned. */
    private volatile ExecutorService runner;

    /**
     * @param runners makes the single-thread executor calls run on: one now, a fresh one after each
     *                abandoned call (whose thread stays with it)
     */
    ModelCaller(RowModel model, String name, Duration batchTimeout, EngineStats stats, ModelReferences references,
                EngineClock clock, Supplier<ExecutorService> runners) {
        this.model = model;
        this.name = name;
        this.timeout = batchTimeout;
        this.timeoutNanos = batchTimeout.toNanos();
        this.stats = stats;
        this.references = references;
        this.clock = clock;
        this.runners = runners;
        this.runner = runners.get();
    }

    /** The model's name, for messages. */
    String name() {
        return name;
    }

    /** Pads the rows and runs them: one call, given up after the batch timeout. */
    Attempt attempt(List<Encoded> rows) throws Throwable {
        RowModel.Batch input;
        try {
            input = model.prepare(rows);
        } catch (RuntimeException | OutOfMemoryError e) {
            stats.recordFailedBatch();
            return Attempt.failed(e);
        }
        return await(start(input));
    }

    /**
     * Hands a prepared batch to the run thread, which closes it once the call returns; the caller never
     * touches {@code input} again.
     */
    Call start(RowModel.Batch input) {
        CompletableFuture<float[][]> result = new CompletableFuture<>();
        Call call = new Call(input.rows(), result, clock.nanoTime());
        if (!references.retain()) {
            input.close();
            result.completeExceptionally(closed());
            return call;
        }
        RunTask task = new RunTask(input, result);
        try {
            runner.execute(task);
        } catch (RejectedExecutionException e) {
            task.neverRun(closed());
        }
        return call;
    }

    /**
     * One model call on a run thread. It holds the input and a reference to the natives until the call
     * returns, or, when its thread was taken away before it started (its executor shut down), until
     * {@link #neverRun} lets them go: either way exactly once.
     */
    private final class RunTask implements Runnable {
        private final RowModel.Batch input;
        private final CompletableFuture<float[][]> result;
        private final AtomicBoolean taken = new AtomicBoolean();

        RunTask(RowModel.Batch input, CompletableFuture<float[][]> result) {
            this.input = input;
            this.result = result;
        }

        @Override
        public void run() {
            if (!taken.compareAndSet(false, true)) {
                return;
            }
            float[][] outputs = null;
            Throwable failure = null;
            try {
                outputs = model.run(input);
            } catch (Throwable t) {
                failure = t;
            } finally {
                // Before the result is seen: the loop's next batch can reuse these buffers at once.
                letGo();
            }
            if (failure == null) {
                result.complete(outputs);
            } else {
                result.completeExceptionally(failure);
            }
        }

        void neverRun(Throwable why) {
            if (taken.compareAndSet(false, true)) {
                letGo();
                result.completeExceptionally(why);
            }
        }

        private void letGo() {
            try {
                input.close();
            } finally {
                references.release();
            }
        }
    }

    /** Shuts an executor down at once; a call queued on it and not started lets its input and reference go. */
    private void stopNow(ExecutorService executor, String why) {
        for (Runnable queued : executor.shutdownNow()) {
            if (queued instanceof RunTask task) {
                task.neverRun(new ModelUnavailableException("A call of " + name + " never started: " + why));
            }
        }
    }

    private ModelUnavailableException closed() {
        return new ModelUnavailableException("the inference engine of " + name + " is closed");
    }

    /**
     * Waits for a call, at most the batch timeout from its start. Errors other than an OutOfMemoryError
     * are rethrown: the runtime itself is broken, and the loop dies of them.
     */
    Attempt await(Call call) throws Throwable {
        long deadline = call.startNanos() + timeoutNanos;
        while (!call.result().isDone()) {
            long left = deadline - clock.nanoTime();
            if (left <= 0) {
                stats.recordFailedBatch();
                abandon();
                return new Attempt(null, new InferenceTimeoutException("A batch of " + call.rows().size() + " rows of " + name
                        + " ran longer than " + timeout.toMillis() + " ms and was abandoned (inference.batch.timeout.ms; a hung "
                        + "device or a model far too slow for it)"), true);
            }
            clock.await(call.result(), left);
        }
        float[][] outputs;
        try {
            outputs = call.result().join();
        } catch (CompletionException e) {
            stats.recordFailedBatch();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof Error && !(cause instanceof OutOfMemoryError)) {
                throw cause;
            }
            return Attempt.failed(cause);
        }
        List<Encoded> rows = call.rows();
        if (outputs == null || outputs.length != rows.size()) {
            stats.recordFailedBatch();
            return Attempt.failed(new InferenceException("Model " + name + " returned " + (outputs == null ? "no" : outputs.length)
                    + " outputs for " + rows.size() + " rows"));
        }
        long real = 0;
        int width = 0;
        for (Encoded row : rows) {
            real += row.length();
            width = Math.max(width, row.length());
        }
        long end = clock.nanoTime();
        stats.recordBatch(rows.size(), real, (long) width * rows.size(), end - call.startNanos());
        return new Attempt(outputs, null, false, call.startNanos(), end);
    }

    /** Asks the hung call to stop, and moves later calls to a fresh thread whether or not it does. */
    private void abandon() {
        LOG.error("Model {}: a call ran past inference.batch.timeout.ms={}; asking it to terminate and running later batches "
                + "on a new thread", name, timeout.toMillis());
        try {
            model.cancelRunning();
        } catch (RuntimeException e) {
            LOG.warn("Model {}: terminating the hung call failed: {}", name, e.toString());
        }
        ExecutorService stuck = runner;
        runner = runners.get();
        // Interrupts the stuck thread too; a native call ignores that, and then ends only when it returns.
        stopNow(stuck, "its run thread was abandoned");
    }

    /** No new calls; one running still returns and releases what it holds. */
    void shutdown() {
        runner.shutdown();
    }

    /** As {@link #shutdown()}, and interrupts a running call, for a loop that died. */
    void shutdownNow() {
        stopNow(runner, "the inference worker died");
    }
}
