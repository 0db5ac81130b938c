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
 * @param health            timeouts and the circuit breaker
 */
public record InferenceOptions(
        Device device,
        Optional<Variant> variant,
        int intraOpThreads,
        int interOpThreads,
        int maxBatchRows,
        int maxBatchTokens,
        java.time.Duration maxQueueDelay,
        double maxPaddingRatio,
        Health health) {

    /**
     * How the engine notices a broken model.
     *
     * @param batchTimeout    a model call running longer is abandoned and its requests fail (transiently)
     * @param requestTimeout  a caller's future fails after this long, whatever the queue ahead of it
     * @param breakerFailures model faults in a row that open the circuit breaker
     * @param breakerBackoff  how long an open breaker waits before its first probe (doubling after each failed one)
     */
    public record Health(java.time.Duration batchTimeout, java.time.Duration requestTimeout, int breakerFailures,
                         java.time.Duration breakerBackoff) {

        public Health {
            if (batchTimeout.toMillis() < 1 || requestTimeout.toMillis() < 1 || breakerBackoff.toMillis() < 1) {
                throw new IllegalArgumentException("timeouts and backoff must be at least 1 ms: " + batchTimeout + ", " + requestTimeout
                        + ", " + breakerBackoff);
            }
            if (breakerFailures < 1) {
                throw new IllegalArgumentException("breakerFailures < 1: " + breakerFailures);
            }
        }

        /**
         * 30 s per batch: generous for a full batch of long passages on a large model on a CPU. 120 s per
         * request: a request may queue behind several full batches of other stream threads.
         */
        public static Health defaults() {
            return new Health(DynamicBatcher.DEFAULT_BATCH_TIMEOUT, java.time.Duration.ofSeconds(120),
                    DynamicBatcher.DEFAULT_BREAKER_FAILURES, DynamicBatcher.DEFAULT_BREAKER_BACKOFF);
        }
    }

    /** With the default health options. */
    public InferenceOptions(Device device, Optional<Variant> variant, int intraOpThreads, int interOpThreads, int maxBatchRows,
                            int maxBatchTokens, java.time.Duration maxQueueDelay, double maxPaddingRatio) {
        this(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, Health.defaults());
    }

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
        return new InferenceOptions(newDevice, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health);
    }

    public InferenceOptions withBatch(int rows, int tokens) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, rows, tokens, maxQueueDelay, maxPaddingRatio, health);
    }

    public InferenceOptions withMaxQueueDelay(java.time.Duration delay) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, delay, maxPaddingRatio, health);
    }

    public InferenceOptions withMaxPaddingRatio(double ratio) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, ratio, health);
    }

    public InferenceOptions withVariant(Variant newVariant) {
        return new InferenceOptions(device, Optional.of(newVariant), intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health);
    }

    public InferenceOptions withHealth(Health newHealth) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, newHealth);
    }
}
