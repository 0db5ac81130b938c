package dev.kafkareranker.inference;

import java.util.List;

/**
 * How one model kind turns a query and its passages into rows for the model, and the rows' outputs
 * back into scores. Rows of many requests share batches in the engine; this part never sees batches.
 */
interface ScoringMethod {

    /** The rows to run, tokenized and truncated; {@link #finish} gets their outputs in this order. */
    List<Encoded> encode(String query, List<String> passages);

    /** One score per passage, from the outputs of the rows {@link #encode} made. */
    List<Score> finish(float[][] rowOutputs);
}
