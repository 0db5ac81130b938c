package dev.kafkareranker.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelDirectory.Variant;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session on the device the options ask for; which file on which provider, and
 * the fallbacks (fp16 to fp32 on CUDA, CUDA to CPU for {@code device=auto} only when the provider
 * cannot start), are {@link SessionPlan}'s decision, each logged with its reason.
 */
final class OnnxModel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);

    private final OrtSession session;
    private final Set<String> inputNames;
    private final String executionProvider;
    private final Path file;

    private OnnxModel(OrtSession session, String executionProvider, Path file) throws OrtException {
        this.session = session;
        this.inputNames = Set.copyOf(session.getInputNames());
        this.executionProvider = executionProvider;
        this.file = file;
    }

    static OnnxModel open(ModelSpec spec, InferenceOptions options) {
        OrtEnvironment env = environment();
        Path dir = spec.modelFile().getParent();
        Optional<Path> requested = options.variant().map(variant -> ModelDirectory.requestedVariantFile(spec.name(), dir, variant));
        // fp16 halves memory and uses tensor cores on a GPU; on a CPU it is slower than fp32, so it is never the CPU's choice.
        // auto never takes a variant the export judged unfit to serve (reranker.json variants).
        Optional<Path> fp16 = ModelDirectory.autoVariantFile(spec.name(), dir, Variant.FP16);
        SessionPlan.Opened<OrtSession> opened = SessionPlan.open(spec.name(), options.device(), spec.modelFile(), fp16, requested,
                new OrtSessions(env, options));
        try {
            return new OnnxModel(opened.session(), opened.provider(), opened.file());
        } catch (OrtException e) {
            try {
                opened.session().close();
            } catch (OrtException ignored) {
                // already failing
            }
            throw new ModelLoadException("Cannot read the inputs of " + opened.file() + ": " + e.getMessage(), e);
        }
    }

    /** Real ONNX Runtime sessions; the session options are closed once the session exists (it keeps its own copy). */
    private record OrtSessions(OrtEnvironment env, InferenceOptions options) implements SessionPlan.Sessions<OrtSession> {

        @Override
        public OrtSession onCuda(Path file, int deviceId) throws SessionPlan.ProviderUnavailable, SessionPlan.LoadFailed {
            try (OrtSession.SessionOptions so = baseOptions(options)) {
                try {
                    options.gpu().apply(new OrtProviders(so), deviceId);
                } catch (Exception | UnsatisfiedLinkError e) {
                    throw new SessionPlan.ProviderUnavailable("CUDA provider " + deviceId + " did not start (options "
                            + options.gpu().cuda(deviceId) + (options.gpu().tensorRt() ? ", TensorRT " + options.gpu().tensorRt(deviceId) : "")
                            + ")", e);
                }
                return create(file, so);
            } catch (OrtException e) {
                throw new SessionPlan.ProviderUnavailable("session options could not be made", e);
            }
        }

        @Override
        public OrtSession onCpu(Path file) throws SessionPlan.LoadFailed {
            try (OrtSession.SessionOptions so = baseOptions(options)) {
                return create(file, so);
            } catch (OrtException e) {
                throw new SessionPlan.LoadFailed("session options could not be made", e);
            }
        }

        private OrtSession create(Path file, OrtSession.SessionOptions so) throws SessionPlan.LoadFailed {
            try {
                return env.createSession(file.toString(), so);
            } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                throw new SessionPlan.LoadFailed(file + " did not load", e);
            }
        }
    }

    /** The provider options onto real session options; the options objects are closed once applied (the session copies them). */
    // The two methods look alike but cannot share a helper: their common base class in ONNX Runtime,
    // StringConfigProviderOptions, is package-private.
    private record OrtProviders(OrtSession.SessionOptions so) implements GpuOptions.ProviderSink {
        @Override
        public void addTensorRt(Map<String, String> values) throws OrtException {
            ai.onnxruntime.providers.OrtTensorRTProviderOptions trt =
                    new ai.onnxruntime.providers.OrtTensorRTProviderOptions(Integer.parseInt(values.get("device_id")));
            for (Map.Entry<String, String> e : values.entrySet()) {
                trt.add(e.getKey(), e.getValue());
            }
            so.addTensorrt(trt);
        }

        @Override
        public void addCuda(Map<String, String> values) throws OrtException {
            ai.onnxruntime.providers.OrtCUDAProviderOptions cuda =
                    new ai.onnxruntime.providers.OrtCUDAProviderOptions(Integer.parseInt(values.get("device_id")));
            for (Map.Entry<String, String> e : values.entrySet()) {
                cuda.add(e.getKey(), e.getValue());
            }
            so.addCUDA(cuda);
        }
    }

    /**
     * WARNING and above from ONNX Runtime's native logger: that is where "nodes were placed on the CPU"
     * (a GPU session silently running part of the graph on the host) and similar warnings appear. A failed
     * CUDA load with device=auto is printed there too, beside our own WARN saying what we fell back to.
     */
    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "reranker");
    }

    /** The intra-op pool's size: the setting, or one per core this JVM may use when it is 0. */
    static int intraOpThreads(InferenceOptions options) {
        return options.intraOpThreads() > 0 ? options.intraOpThreads() : Runtime.getRuntime().availableProcessors();
    }

    private static OrtSession.SessionOptions baseOptions(InferenceOptions options) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // 0: one thread per core this JVM may use, not ONNX Runtime's own default. ONNX Runtime counts the
            // machine's cores and pins its pool's threads to them, so in a container with a CPU limit (or under
            // taskset) it runs more threads than the cores it gets and leaves the limit: measured here, a bench
            // under `taskset -c 0` still kept 1.47 cores busy. availableProcessors() follows the affinity mask
            // and the container's CPU quota.
            so.setIntraOpNumThreads(intraOpThreads(options));
            if (options.interOpThreads() > 0) {
                so.setInterOpNumThreads(options.interOpThreads());
            }
            return so;
        } catch (OrtException | RuntimeException e) {
            so.close();
            throw e;
        }
    }

    boolean takes(String inputName) {
        return inputNames.contains(inputName);
    }

    Set<String> inputNames() {
        return inputNames;
    }

    String executionProvider() {
        return executionProvider;
    }

    Path file() {
        return file;
    }

    /** Names of the outputs with their shapes, for error messages. */
    String describeOutputs() throws OrtException {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
            out.append(out.length() == 0 ? "" : ", ").append(e.getKey());
            if (e.getValue().getInfo() instanceof TensorInfo t) {
                out.append(java.util.Arrays.toString(t.getShape()));
            }
        }
        return out.toString();
    }

    /** The declared rank of an output, or -1 when the graph does not say. */
    int outputRank(String name) throws OrtException {
        NodeInfo info = session.getOutputInfo().get(name);
        return info != null && info.getInfo() instanceof TensorInfo t ? t.getShape().length : -1;
    }

    Set<String> outputNames() throws OrtException {
        return session.getOutputNames();
    }

    OrtSession.Result run(Map<String, OnnxTensor> inputs) throws OrtException {
        return session.run(inputs);
    }

    OrtSession.Result run(Map<String, OnnxTensor> inputs, OrtSession.RunOptions runOptions) throws OrtException {
        return session.run(inputs, runOptions);
    }

    /** A run that writes the named outputs into the given pre-allocated tensors (which the caller keeps and closes). */
    OrtSession.Result run(Map<String, OnnxTensor> inputs, Map<String, OnnxTensor> pinnedOutputs, OrtSession.RunOptions runOptions)
            throws OrtException {
        return session.run(inputs, Set.of(), pinnedOutputs, runOptions);
    }

    /** The declared shape of an fp32 output (-1 for dynamic dimensions), or null when it is not fp32 or not a tensor. */
    long[] floatOutputShape(String name) {
        try {
            NodeInfo info = session.getOutputInfo().get(name);
            if (info != null && info.getInfo() instanceof TensorInfo t && t.type == ai.onnxruntime.OnnxJavaType.FLOAT) {
                return t.getShape();
            }
            return null;
        } catch (OrtException e) {
            return null;
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("Closing the ONNX session of {} failed: {}", file, e.getMessage());
        }
    }
}
