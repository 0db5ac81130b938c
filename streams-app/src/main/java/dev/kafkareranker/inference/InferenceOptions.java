package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelDirectory.Variant;
import java.util.Optional;

/**
 * Session and batching options for one model; every default is here.
 *
 * @param device            where to run
 * @param variant           which ONNX file; empty = fp16 on CUDA when the directory has one, else fp32
 * @param intraOpThreads    ONNX Runtime threads inside one operator; 0 = ONNX Runtime's choice (all cores)
 * @param interOpThreads    threads across independent operators; 0 = ONNX Runtime's choice
 * @param maxBatchRows      most sequences in one run
 * @param maxBatchTokens    most rows × padded length in one run: bounds memory and keeps batches of long
 *                          passages small while short ones go many at a time
 * @param maxQueueDelay     how long a batch that is not full waits for rows of other requests
 * @param maxPaddingRatio   most padded over real tokens in one batch
 */
public record InferenceOptions(
        Device device,
        Optional<Variant> variant,
        int intraOpThreads,
        int interOpThreads,
        int maxBatchRows,
        int maxBatchTokens,
        java.time.Duration maxQueueDelay,
        double maxPaddingRatio) {

    public InferenceOptions {
        if (maxBatchRows < 1) {
            throw new IllegalArgumentException("maxBatchRows < 1: " + maxBatchRows);
        }
        if (!(maxPaddingRatio >= 1.0)) {
            throw new IllegalArgumentException("maxPaddingRatio < 1: " + maxPaddingRatio);
        }
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("maxBatchTokens < 1: " + maxBatchTokens);
        }
    }

    public static InferenceOptions defaults() {
        // 2 ms: long enough for a second stream thread's request to join, short beside any model run.
        return new InferenceOptions(Device.parse("auto"), Optional.empty(), 0, 0, 32, 8192, java.time.Duration.ofMillis(2), 1.1);
    }

    public InferenceOptions withDevice(Device newDevice) {
        return new InferenceOptions(newDevice, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio);
    }

    public InferenceOptions withBatch(int rows, int tokens) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, rows, tokens, maxQueueDelay, maxPaddingRatio);
    }

    public InferenceOptions withMaxQueueDelay(java.time.Duration delay) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, delay, maxPaddingRatio);
    }

    public InferenceOptions withMaxPaddingRatio(double ratio) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, ratio);
    }

    public InferenceOptions withVariant(Variant newVariant) {
        return new InferenceOptions(device, Optional.of(newVariant), intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio);
    }
}
