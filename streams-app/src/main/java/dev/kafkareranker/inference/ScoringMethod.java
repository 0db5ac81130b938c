package dev.kafkareranker.inference;

import java.util.List;

/**
 * How one model kind turns a query and its passages into rows for the model, and the rows' outputs
 * back into scores. Rows of many requests share batches in the engine; this part never sees batches.
 * A passage may be several rows (its chunks); the request says which.
 */
interface ScoringMethod {

    /** The rows to run, tokenized and truncated, and which of them score each passage. */
    EncodedRequest encode(String query, List<String> passages);

    /** One score per passage, from the outputs of {@code request}'s rows, in their order. */
    List<Score> finish(EncodedRequest request, float[][] rowOutputs);
}
