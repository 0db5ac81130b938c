package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelDirectory.Variant;
import java.util.Optional;

/**
 * Session and batching options for one model; every default is here.
 *
 * @param device            where to run
 * @param variant           which ONNX file; empty = fp16 on CUDA when the directory has one, else fp32
 * @param intraOpThreads    ONNX Runtime threads inside one operator; 0 = one per core this JVM may use on the CPU,
 *                          1 on a GPU ({@link SessionSetup#intraOpThreads})
 * @param interOpThreads    threads across independent operators; 0 = ONNX Runtime's choice
 * @param maxBatchRows      most sequences in one run
 * @param maxBatchTokens    most rows × padded length in one run: bounds memory and keeps batches of long
 *                          passages small while short ones go many at a time
 * @param maxQueueDelay     how long a batch that is not full waits for rows of other requests
 * @param maxPaddingRatio   most padded over real tokens in one batch
 * @param health            timeouts and the circuit breaker
 * @param gpu               CUDA and TensorRT provider options, used only when a session opens on a GPU
 * @param tokenizerThreads  threads that tokenize requests, shared by the stream threads; 0 = one per core
 * @param batchFromDevice   whether rows, tokens and padding cap are the defaults of the device the session
 *                          opens on ({@link #forProvider}) rather than set by the user
 * @param maxQueuedRows     the engine queue's soft bound: rows admitted and not yet running at which the
 *                          engine says it has no room ({@link Scorer#hasRoom()}); 0 = two pools of full
 *                          batches (2 × 4 × maxBatchRows, the device's batch rows when they are its default)
 * @param opSpinning        when ONNX Runtime's pool threads spin waiting for work ({@link OpSpinning})
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
        Health health,
        GpuOptions gpu,
        int tokenizerThreads,
        boolean batchFromDevice,
        int maxQueuedRows,
        OpSpinning opSpinning) {

    /** CPU batching (tuned on this project's 2-core bench): 32 rows, 8,192 tokens, padding at most 1.1×. */
    public static final int CPU_MAX_ROWS = 32;
    public static final int CPU_MAX_TOKENS = 8192;
    public static final double CPU_MAX_PADDING_RATIO = 1.1;
    /**
     * GPU batching: a GPU pays a fixed cost per run (a kernel launch per operator, a host-device copy) that
     * a CPU does not, and its throughput keeps rising up to thousands of tokens per run, so batches are
     * far larger, and padding, which costs only idle lanes of a wide device, is allowed up to 1.5×.
     * 65,536 tokens of a BERT-base model are 200 MB per fp32 hidden-state activation; see
     * docs/benchmarks.md ("GPU defaults") for the reasoning. Unmeasured here: no GPU in this workplace.
     */
    public static final int CUDA_MAX_ROWS = 256;
    public static final int CUDA_MAX_TOKENS = 65_536;
    public static final double CUDA_MAX_PADDING_RATIO = 1.5;

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

    /** With the queue bound derived from the batch size. */
    public InferenceOptions(Device device, Optional<Variant> variant, int intraOpThreads, int interOpThreads, int maxBatchRows,
                            int maxBatchTokens, java.time.Duration maxQueueDelay, double maxPaddingRatio, Health health, GpuOptions gpu,
                            int tokenizerThreads, boolean batchFromDevice) {
        this(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health, gpu,
                tokenizerThreads, batchFromDevice, 0, OpSpinning.WHILE_RUNNING);
    }

    /** Batching as given (not from the device), default GPU options, one tokenizer thread per core. */
    public InferenceOptions(Device device, Optional<Variant> variant, int intraOpThreads, int interOpThreads, int maxBatchRows,
                            int maxBatchTokens, java.time.Duration maxQueueDelay, double maxPaddingRatio, Health health) {
        this(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health,
                GpuOptions.defaults(), 0, false);
    }

    /**
     * These options for a session that opened on {@code provider}: when batching is the device's default,
     * the GPU's larger batches on CUDA or TensorRT, the CPU's otherwise.
     */
    public InferenceOptions forProvider(String provider) {
        if (!batchFromDevice) {
            return this;
        }
        boolean gpu = provider.startsWith("CUDA") || provider.startsWith("Tensorrt");
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, gpu ? CUDA_MAX_ROWS : CPU_MAX_ROWS,
                gpu ? CUDA_MAX_TOKENS : CPU_MAX_TOKENS, maxQueueDelay, gpu ? CUDA_MAX_PADDING_RATIO : CPU_MAX_PADDING_RATIO, health, this.gpu,
                tokenizerThreads, true, maxQueuedRows, opSpinning);
    }

    /** Threads of the tokenizer pool: the setting, or one per core. */
    public int tokenizerPoolSize() {
        return tokenizerThreads > 0 ? tokenizerThreads : Runtime.getRuntime().availableProcessors();
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
        if (tokenizerThreads < 0 || maxQueuedRows < 0) {
            throw new IllegalArgumentException("inference.tokenizer.threads and inference.queue.max.rows must be >= 0 (0 = the default): "
                    + tokenizerThreads + ", " + maxQueuedRows);
        }
        java.util.Objects.requireNonNull(gpu, "gpu");
        java.util.Objects.requireNonNull(opSpinning, "opSpinning");
    }

    public static InferenceOptions defaults() {
        // 2 ms: long enough for a second stream thread's request to join, short beside any model run.
        return new InferenceOptions(Device.parse("auto"), Optional.empty(), 0, 0, CPU_MAX_ROWS, CPU_MAX_TOKENS, java.time.Duration.ofMillis(2),
                CPU_MAX_PADDING_RATIO, Health.defaults(), GpuOptions.defaults(), 0, true);
    }

    public InferenceOptions withDevice(Device newDevice) {
        return new InferenceOptions(newDevice, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health, gpu, tokenizerThreads, batchFromDevice, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withBatch(int rows, int tokens) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, rows, tokens, maxQueueDelay, maxPaddingRatio, health, gpu, tokenizerThreads, false, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withMaxQueueDelay(java.time.Duration delay) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, delay, maxPaddingRatio, health, gpu, tokenizerThreads, batchFromDevice, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withMaxPaddingRatio(double ratio) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, ratio, health, gpu, tokenizerThreads, false, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withVariant(Variant newVariant) {
        return new InferenceOptions(device, Optional.of(newVariant), intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health, gpu, tokenizerThreads, batchFromDevice, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withHealth(Health newHealth) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, newHealth, gpu, tokenizerThreads, batchFromDevice, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withGpu(GpuOptions newGpu) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health,
                newGpu, tokenizerThreads, batchFromDevice, maxQueuedRows, opSpinning);
    }

    public InferenceOptions withTokenizerThreads(int threads) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health,
                gpu, threads, batchFromDevice, maxQueuedRows, opSpinning);
    }

    /** The engine queue's soft bound in rows; 0 = two pools of full batches. */
    public InferenceOptions withMaxQueuedRows(int rows) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health, gpu, tokenizerThreads, batchFromDevice, rows, opSpinning);
    }

    /** When ONNX Runtime's pool threads spin waiting for work; while a run is in progress unless set. */
    public InferenceOptions withOpSpinning(OpSpinning spinning) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health,
                gpu, tokenizerThreads, batchFromDevice, maxQueuedRows, spinning);
    }

    /** Batching that {@link #forProvider} leaves alone (set by the user) or fills in (false/true). */
    public InferenceOptions withBatchFromDevice(boolean fromDevice) {
        return new InferenceOptions(device, variant, intraOpThreads, interOpThreads, maxBatchRows, maxBatchTokens, maxQueueDelay, maxPaddingRatio, health,
                gpu, tokenizerThreads, fromDevice, maxQueuedRows, opSpinning);
    }
}
