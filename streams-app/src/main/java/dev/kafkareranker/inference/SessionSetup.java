package dev.kafkareranker.inference;

import java.util.Optional;

/**
 * What a session's options get before the session is made: threads, and on a GPU the providers. Written
 * against a small interface ({@link Target}) that ONNX Runtime's session options implement in production
 * (OnnxModel) and a test's fake of them otherwise, since no GPU exists in this workplace.
 */
final class SessionSetup {

    /** The session options being built: ONNX Runtime's, or a test's FakeSessionOptions. */
    interface Target extends GpuOptions.ProviderSink {
        void setIntraOpThreads(int threads) throws Exception;

        void setInterOpThreads(int threads) throws Exception;

        /** When the intra- and inter-op pools' threads spin while they wait for work. */
        void setSpinning(OpSpinning spinning) throws Exception;
    }

    private SessionSetup() {
    }

    /**
     * The intra-op pool's size: the setting; else, on a GPU, 1, since the kernels run on the device and the
     * pool's threads spin waiting for work, taking cores from the tokenizers that feed it (ONNX Runtime's
     * maintainers advise 1 for GPU sessions: microsoft/onnxruntime#10081, #20494); else one per core this JVM
     * may use. ONNX Runtime's own default counts the machine's cores and pins its pool's threads to them, so in
     * a container with a CPU limit (or under taskset) it runs more threads than the cores it gets: measured
     * here, a bench under {@code taskset -c 0} still kept 1.47 cores busy. availableProcessors() follows the
     * affinity mask and the container's CPU quota.
     */
    static int intraOpThreads(InferenceOptions options, boolean gpu) {
        if (options.intraOpThreads() > 0) {
            return options.intraOpThreads();
        }
        return gpu ? 1 : Runtime.getRuntime().availableProcessors();
    }

    /** Options of a CPU session. */
    static void cpu(Target target, InferenceOptions options) throws Exception {
        threads(target, options, false);
    }

    /**
     * Options of a session on GPU {@code deviceId}: one intra-op thread unless set, then TensorRT (when asked
     * for, with {@code profile}; one WARN and CUDA alone when it cannot start) and CUDA.
     *
     * @return whether TensorRT was added
     */
    static boolean cuda(Target target, InferenceOptions options, int deviceId, Optional<MemoryAwareSizer.ShapeProfile> profile)
            throws Exception {
        threads(target, options, true);
        return options.gpu().apply(target, deviceId, profile);
    }

    private static void threads(Target target, InferenceOptions options, boolean gpu) throws Exception {
        target.setSpinning(options.opSpinning());
        target.setIntraOpThreads(intraOpThreads(options, gpu));
        if (options.interOpThreads() > 0) {
            target.setInterOpThreads(options.interOpThreads());
        }
    }
}
