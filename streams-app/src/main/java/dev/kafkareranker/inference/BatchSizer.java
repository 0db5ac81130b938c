package dev.kafkareranker.inference;

import java.util.List;

/**
 * Cuts a pool of rows into batches for one model on one device, and learns from batches that ran out of
 * device memory. The engine's batching loop asks it for plans and tells it how each batch went; what
 * bounds a batch (rows, tokens, padding, attention and activation bytes) is the sizer's own business.
 * Called from the engine's worker thread only.
 */
interface BatchSizer {

    /**
     * Indices into {@code lengths} (each row's token count), grouped into batches. Every index appears
     * exactly once; a row longer than any budget still gets a batch of its own.
     */
    List<int[]> plan(int[] lengths);

    /**
     * A batch of {@code rows} rows padded to {@code width} tokens failed for lack of memory
     * ({@link OutOfMemory#is}): later plans for that width must be smaller, so that one failure is not
     * repeated by every full batch.
     */
    default void allocationFailed(int rows, int width) {
    }

    /** A batch of {@code rows} × {@code width} ran: a budget narrowed by a failure may widen again, slowly. */
    default void ran(int rows, int width) {
    }

    /** Rows, tokens and padding ratio alone ({@link BatchPlanner}): no memory model, nothing learnt. */
    static BatchSizer tokenBudget(int maxRows, int maxTokens, double maxPaddingRatio) {
        return lengths -> BatchPlanner.plan(lengths, maxRows, maxTokens, maxPaddingRatio);
    }
}
