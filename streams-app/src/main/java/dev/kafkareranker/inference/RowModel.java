package dev.kafkareranker.inference;

import java.util.List;

/** Runs the model on one batch of rows; one output vector per row. Called from one thread at a time. */
interface RowModel extends AutoCloseable {

    float[][] run(List<Encoded> rows);

    @Override
    void close();
}
