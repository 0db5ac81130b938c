package dev.kafkareranker.inference;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers requests: routes each row's output to its request and completes a request's future once all
 * its rows are in, on the finisher thread, so callers' callbacks (scores, the gatherer's continuation)
 * never run on the run thread and never delay the loop's next batch. A row whose output holds NaN or
 * an infinity fails its request ({@link NonFiniteScoreException}) instead of being ranked.
 */
final class Completions {

    private static final Logger LOG = LoggerFactory.getLogger(Completions.class);

    private final String name;
    private final ExecutorService finisher;

    /** @param finisher runs completions in order; once shut down, completions run on the calling thread */
    Completions(String name, ExecutorService finisher) {
        this.name = name;
        this.finisher = finisher;
    }

    /** Answers the rows with finite outputs (a request completes once all its rows are in); returns how many. */
    int deliver(List<QueuedRow> batch, float[][] outputs) {
        int finite = 0;
        for (int i = 0; i < batch.size(); i++) {
            if (!isFinite(outputs[i])) {
                continue;
            }
            finite++;
            QueuedRow row = batch.get(i);
            if (row.request().answer(row.index(), outputs[i])) {
                finish(row.request().future, row.request().outputs, null);
            }
        }
        return finite;
    }

    /** Fails the requests of rows whose output is not finite. */
    void failNonFinite(List<QueuedRow> batch, float[][] outputs) {
        for (int i = 0; i < batch.size(); i++) {
            if (!isFinite(outputs[i])) {
                LOG.warn("A row of {} gave a non-finite output {}; its request fails", name, Arrays.toString(outputs[i]));
                finish(batch.get(i).request().future, null, new NonFiniteScoreException("Model " + name
                        + " gave a non-finite output for a row (" + Arrays.toString(outputs[i])
                        + "): it cannot be ranked, so its query is not scored"));
            }
        }
    }

    /** Fails the request of every row. */
    void fail(List<QueuedRow> batch, Throwable failure) {
        for (QueuedRow row : batch) {
            finish(row.request().future, null, failure);
        }
    }

    /** Completes a future on the finisher thread; on the calling thread once the finisher is shut down. */
    void finish(CompletableFuture<float[][]> future, float[][] outputs, Throwable failure) {
        Runnable complete = () -> {
            if (failure == null) {
                future.complete(outputs);
            } else {
                future.completeExceptionally(failure);
            }
        };
        try {
            finisher.execute(complete);
        } catch (RejectedExecutionException closed) {
            complete.run();
        }
    }

    /** Completions already handed over still run: every future ends. */
    void shutdown() {
        finisher.shutdown();
    }

    static boolean allFinite(float[][] outputs) {
        for (float[] row : outputs) {
            if (!isFinite(row)) {
                return false;
            }
        }
        return true;
    }

    static boolean isFinite(float[] row) {
        if (row == null) {
            return false;
        }
        for (float v : row) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
