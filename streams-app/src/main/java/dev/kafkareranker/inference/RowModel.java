package dev.kafkareranker.inference;

import java.util.List;

/**
 * Runs the model on one batch of rows; one output vector per row. Called from one thread at a time,
 * except that after a call was abandoned for running too long, the next may start while it still runs.
 */
interface RowModel extends AutoCloseable {

    float[][] run(List<Encoded> rows);

    /** Asks calls in progress on other threads to stop (they then throw); for a call that hangs. */
    default void cancelRunning() {
    }

    @Override
    void close();
}
