package dev.kafkareranker.inference;

import java.util.concurrent.CompletableFuture;

/**
 * One caller's request inside the engine: its rows' outputs as they come in, from whichever batches ran
 * them, and the future that ends once every row is in (or the request fails). Written by the batching
 * loop only; the future is completed on the finisher thread ({@link Completions}).
 */
final class PendingRequest {

    final float[][] outputs;
    final CompletableFuture<float[][]> future = new CompletableFuture<>();
    /** Where the request's time goes, for its caller's trace; null when nobody asked (no clock is read for it then). */
    final StageTimes times;
    private int remaining;

    PendingRequest(int rows) {
        this(rows, null);
    }

    PendingRequest(int rows, StageTimes times) {
        outputs = new float[rows][];
        remaining = rows;
        this.times = times;
    }

    /** Stores one row's output; true when it was the last one missing. */
    boolean answer(int index, float[] output) {
        outputs[index] = output;
        return --remaining == 0;
    }
}
