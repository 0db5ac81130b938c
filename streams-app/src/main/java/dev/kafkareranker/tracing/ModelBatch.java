package dev.kafkareranker.tracing;

/**
 * What a query's model-batch span records about the batch its pairs ran in.
 *
 * @param rows          sequences in the batch (all queries' pairs together)
 * @param realTokens    tokens the sequences hold
 * @param paddedTokens  tokens the model computed, padding included (rows × padded length)
 * @param device        the execution provider it ran on (CUDAExecutionProvider, CPUExecutionProvider)
 * @param model         the model's name
 * @param modelVersion  the model's version
 */
public record ModelBatch(int rows, long realTokens, long paddedTokens, String device, String model, String modelVersion) {

    /** Padded over real tokens: 1.0 is no padding. */
    public double paddingRatio() {
        return realTokens == 0 ? 1.0 : (double) paddedTokens / realTokens;
    }
}
