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
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session on the device the options ask for. With {@code device=auto} a CUDA
 * provider that fails to load (no driver, no CUDA libraries) falls back to CPU with one WARN line
 * naming the reason; with {@code device=cuda} the failure is an error, since the user required a GPU.
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
        Device device = options.device();
        if (device.kind() != Device.Kind.CPU) {
            try {
                Path file = chooseFile(spec, options, true);
                return new OnnxModel(env.createSession(file.toString(), sessionOptions(options, device.cudaId())),
                        "CUDAExecutionProvider:" + device.cudaId(), file);
            } catch (OrtException | UnsatisfiedLinkError | IllegalStateException e) {
                if (device.kind() == Device.Kind.CUDA) {
                    throw new ModelLoadException("inference.device=" + device + " but CUDA could not be used: " + e.getMessage()
                            + " (set inference.device=auto to fall back to CPU)", e);
                }
                LOG.warn("inference.device=auto: CUDA unavailable ({}); running {} on CPU", firstLine(e), spec.name());
            }
        }
        Path file = chooseFile(spec, options, false);
        try {
            return new OnnxModel(env.createSession(file.toString(), sessionOptions(options, -1)), "CPUExecutionProvider", file);
        } catch (OrtException e) {
            throw new ModelLoadException("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * ONNX Runtime's native logger would print the failed CUDA load as a second, red line beside our
     * WARN; every native error also reaches us as an OrtException, so only fatal ones are printed.
     */
    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "reranker");
    }

    private static Path chooseFile(ModelSpec spec, InferenceOptions options, boolean cuda) {
        Path dir = spec.modelFile().getParent();
        if (options.variant().isPresent()) {
            Variant variant = options.variant().get();
            return ModelDirectory.modelFile(dir, variant).orElseThrow(() -> new ModelLoadException(
                    "inference.model.variant=" + variant.name().toLowerCase() + " but " + dir + " has no " + variant.fileName()));
        }
        // fp16 halves memory and uses tensor cores on a GPU; on a CPU it is slower than fp32.
        if (cuda) {
            return ModelDirectory.modelFile(dir, Variant.FP16).orElse(spec.modelFile());
        }
        return spec.modelFile();
    }

    private static OrtSession.SessionOptions sessionOptions(InferenceOptions options, int cudaId) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        if (options.intraOpThreads() > 0) {
            so.setIntraOpNumThreads(options.intraOpThreads());
        }
        if (options.interOpThreads() > 0) {
            so.setInterOpNumThreads(options.interOpThreads());
        }
        if (cudaId >= 0) {
            try {
                so.addCUDA(cudaId);
            } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                so.close();
                throw e;
            }
        }
        return so;
    }

    private static String firstLine(Throwable e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (newline < 0 ? message : message.substring(0, newline));
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

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("Closing the ONNX session of {} failed: {}", file, e.getMessage());
        }
    }
}
