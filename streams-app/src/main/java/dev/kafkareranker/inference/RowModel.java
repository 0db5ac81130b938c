package dev.kafkareranker.inference;

import java.util.List;

/**
 * Runs the model on one batch of rows; one output vector per row. Called from one thread at a time,
 * except that after a call was abandoned for running too long, the next may start while it still runs.
 *
 * <p>A batch can be prepared ({@link #prepare}: padded into input tensors) on one thread while another
 * batch runs on another: the engine prepares the next batch while the device runs the current one.
 */
interface RowModel extends AutoCloseable {

    float[][] run(List<Encoded> rows);

    /** Rows made ready to run; close it once its run has ended (or when it will not run). */
    interface Batch extends AutoCloseable {
        List<Encoded> rows();

        @Override
        void close();
    }

    /** By default nothing is done ahead: the rows are padded when they run. */
    default Batch prepare(List<Encoded> rows) {
        return unprepared(rows);
    }

    /** Rows as they are: padded by {@link #run(Batch)} when they run. */
    static Batch unprepared(List<Encoded> rows) {
        List<Encoded> copy = List.copyOf(rows);
        return new Batch() {
            @Override
            public List<Encoded> rows() {
                return copy;
            }

            @Override
            public void close() {
            }
        };
    }

    default float[][] run(Batch batch) {
        return run(batch.rows());
    }

    /** Asks calls in progress on other threads to stop (they then throw); for a call that hangs. */
    default void cancelRunning() {
    }

    @Override
    void close();
}
