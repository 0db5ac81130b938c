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
                new OrtSessions(env, spec, options));
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

    /**
     * Real ONNX Runtime sessions; the session options (and the provider options on them) are closed once the
     * session exists: the session keeps its own copy. TensorRT that cannot start, or cannot build an engine for
     * the file, is tried once: after one WARN the sessions run on CUDA alone.
     */
    private static final class OrtSessions implements SessionPlan.Sessions<OrtSession> {
        private final OrtEnvironment env;
        private final ModelSpec spec;
        private final InferenceOptions options;
        private boolean tensorRtOff;
        private boolean lastOnTensorRt;

        OrtSessions(OrtEnvironment env, ModelSpec spec, InferenceOptions options) {
            this.env = env;
            this.spec = spec;
            this.options = options;
        }

        @Override
        public OrtSession onCuda(Path file, int deviceId) throws SessionPlan.ProviderUnavailable, SessionPlan.LoadFailed {
            boolean withTensorRt = options.gpu().tensorRt() && !tensorRtOff;
            InferenceOptions attempt = options.withGpu(options.gpu().withTensorRt(withTensorRt));
            Optional<MemoryAwareSizer.ShapeProfile> profile = withTensorRt
                    ? Optional.of(BatchSizer.sizer(spec, file, attempt.forProvider(TENSORRT + deviceId), TENSORRT + deviceId).tensorRtProfile())
                    : Optional.empty();
            try (OrtSession.SessionOptions so = baseOptions(); OrtTarget target = new OrtTarget(so)) {
                boolean added;
                try {
                    added = SessionSetup.cuda(target, attempt, deviceId, profile);
                } catch (Exception | UnsatisfiedLinkError e) {
                    throw new SessionPlan.ProviderUnavailable("CUDA provider " + deviceId + " did not start (options "
                            + attempt.gpu().cuda(deviceId) + ")", e);
                }
                tensorRtOff |= withTensorRt && !added;
                try {
                    OrtSession session = create(file, so);
                    lastOnTensorRt = added;
                    if (added) {
                        LOG.info("Model {}: TensorRT runs {} on GPU {}, one engine for batches of up to {} rows x {} tokens", spec.name(),
                                file.getFileName(), deviceId, profile.get().rows(), profile.get().width());
                    }
                    return session;
                } catch (SessionPlan.LoadFailed e) {
                    if (!added) {
                        throw e;
                    }
                    tensorRtOff = true;
                    LOG.warn("Model {}: TensorRT could not build an engine for {} ({}); running it on CUDA without TensorRT",
                            spec.name(), file.getFileName(), SessionPlan.firstLine(e));
                    LOG.debug("TensorRT's error in full", e);
                }
            } catch (OrtException e) {
                throw new SessionPlan.ProviderUnavailable("session options could not be made", e);
            }
            return onCuda(file, deviceId);
        }

        @Override
        public String cudaProvider(int deviceId) {
            return (lastOnTensorRt ? TENSORRT : "CUDAExecutionProvider:") + deviceId;
        }

        @Override
        public OrtSession onCpu(Path file) throws SessionPlan.LoadFailed {
            try (OrtSession.SessionOptions so = baseOptions(); OrtTarget target = new OrtTarget(so)) {
                SessionSetup.cpu(target, options);
                return create(file, so);
            } catch (SessionPlan.LoadFailed e) {
                throw e;
            } catch (Exception e) {
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

    private static final String TENSORRT = "TensorrtExecutionProvider:";

    /**
     * Settings and providers onto real session options. The provider option objects are native and closed with
     * this target, once the session has been made from the options.
     */
    // The two provider methods look alike but cannot share a helper: their common base class in ONNX Runtime,
    // StringConfigProviderOptions, is package-private.
    private static final class OrtTarget implements SessionSetup.Target, AutoCloseable {
        private final OrtSession.SessionOptions so;
        private final java.util.List<AutoCloseable> providerOptions = new java.util.ArrayList<>();

        OrtTarget(OrtSession.SessionOptions so) {
            this.so = so;
        }

        @Override
        public void setIntraOpThreads(int threads) throws OrtException {
            so.setIntraOpNumThreads(threads);
        }

        @Override
        public void setInterOpThreads(int threads) throws OrtException {
            so.setInterOpNumThreads(threads);
        }

        @Override
        public void setSpinning(OpSpinning spinning) throws OrtException {
            // ONNX Runtime's session config keys (onnxruntime_session_options_config_keys.h): allow_spinning "1" and
            // force_spinning_stop "0" are its defaults; force_spinning_stop stops the pools' spinning when the last
            // concurrent run returns, and the next run starts it again.
            String allow = spinning == OpSpinning.NEVER ? "0" : "1";
            so.addConfigEntry("session.intra_op.allow_spinning", allow);
            so.addConfigEntry("session.inter_op.allow_spinning", allow);
            so.addConfigEntry("session.force_spinning_stop", spinning == OpSpinning.ALWAYS ? "0" : "1");
        }

        @Override
        public void addTensorRt(Map<String, String> values) throws OrtException {
            ai.onnxruntime.providers.OrtTensorRTProviderOptions trt =
                    new ai.onnxruntime.providers.OrtTensorRTProviderOptions(Integer.parseInt(values.get("device_id")));
            providerOptions.add(trt);
            for (Map.Entry<String, String> e : values.entrySet()) {
                trt.add(e.getKey(), e.getValue());
            }
            so.addTensorrt(trt);
        }

        @Override
        public void addCuda(Map<String, String> values) throws OrtException {
            ai.onnxruntime.providers.OrtCUDAProviderOptions cuda =
                    new ai.onnxruntime.providers.OrtCUDAProviderOptions(Integer.parseInt(values.get("device_id")));
            providerOptions.add(cuda);
            for (Map.Entry<String, String> e : values.entrySet()) {
                cuda.add(e.getKey(), e.getValue());
            }
            so.addCUDA(cuda);
        }

        @Override
        public void close() {
            for (AutoCloseable options : providerOptions) {
                try {
                    options.close();
                } catch (Exception e) {
                    LOG.debug("Closing provider options failed", e);
                }
            }
        }
    }

    /**
     * WARNING and above from ONNX Runtime's native logger: that is where "nodes were placed on the CPU"
     * (a GPU session silently running part of the graph on the host) and similar warnings appear.
     */
    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "reranker");
    }

    /** The intra-op pool's size of a CPU session: the setting, or one per core this JVM may use when it is 0. */
    static int intraOpThreads(InferenceOptions options) {
        return SessionSetup.intraOpThreads(options, false);
    }

    private static OrtSession.SessionOptions baseOptions() throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
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

    /** A run that fetches only {@code output}: ONNX Runtime copies every output it is asked for back to the host. */
    OrtSession.Result run(Map<String, OnnxTensor> inputs, String output, OrtSession.RunOptions runOptions) throws OrtException {
        return session.run(inputs, Set.of(output), runOptions);
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
