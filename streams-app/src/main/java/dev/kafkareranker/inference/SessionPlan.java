package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelLoadException;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which ONNX file on which provider, and what to do when one fails: the decision apart from ONNX
 * Runtime, so it can be tested without a GPU. On CUDA the fp16 file is tried first (unless a variant
 * was asked for); if it fails to load, fp32 is tried on CUDA, since an fp16 graph can hold an operator
 * the CUDA kernels lack in half precision while the provider itself is fine. Only when the CUDA
 * provider cannot start, or no file loads on it, does {@code device=auto} fall back to the CPU;
 * {@code device=cuda} fails instead. Every fallback is logged with what failed and why. A machine without
 * CUDA running {@code device=auto} is the ordinary case, not a fault: it gets one short INFO line naming
 * the missing library, and ONNX Runtime's full error only at DEBUG.
 */
final class SessionPlan {

    private static final Logger LOG = LoggerFactory.getLogger(SessionPlan.class);

    /** The CUDA provider could not be started at all (no driver, no CUDA libraries, no such GPU). */
    static final class ProviderUnavailable extends Exception {
        ProviderUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The provider started but this file did not load into a session on it. */
    static final class LoadFailed extends Exception {
        LoadFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Opens sessions; ONNX Runtime in production, a named fake in tests. */
    interface Sessions<S> {
        S onCuda(Path file, int deviceId) throws ProviderUnavailable, LoadFailed;

        S onCpu(Path file) throws LoadFailed;

        /** The provider the last session {@link #onCuda} returned runs on (TensorRT when it started). */
        default String cudaProvider(int deviceId) {
            return "CUDAExecutionProvider:" + deviceId;
        }
    }

    /**
     * @param session  the open session
     * @param provider e.g. CPUExecutionProvider or CUDAExecutionProvider:0
     * @param file     the file it was loaded from
     * @param fallback what failed before this session, empty when the first choice loaded
     */
    record Opened<S>(S session, String provider, Path file, String fallback) {}

    private SessionPlan() {
    }

    /**
     * @param fp32      the model's model.onnx
     * @param fp16      its model.fp16.onnx, when the directory has one
     * @param requested the file of a variant the user asked for (inference.model.variant), which is then
     *                  used on any provider and never swapped for another
     */
    static <S> Opened<S> open(String model, Device device, Path fp32, Optional<Path> fp16, Optional<Path> requested,
                              Sessions<S> sessions) {
        if (device.kind() != Device.Kind.CPU) {
            String reason;
            ProviderUnavailable unavailable = null;
            Path first = requested.orElse(fp16.orElse(fp32));
            String provider = "CUDAExecutionProvider:" + device.cudaId();
            try {
                S session = sessions.onCuda(first, device.cudaId());
                return new Opened<>(session, sessions.cudaProvider(device.cudaId()), first, "");
            } catch (ProviderUnavailable e) {
                unavailable = e;
                reason = "the CUDA provider could not start: " + firstLine(e);
            } catch (LoadFailed fp16Failure) {
                if (requested.isEmpty() && !first.equals(fp32)) {
                    LOG.warn("Model {}: {} failed to load on {} ({}); retrying the fp32 {} on CUDA", model, first.getFileName(), provider,
                            firstLine(fp16Failure), fp32.getFileName());
                    try {
                        S session = sessions.onCuda(fp32, device.cudaId());
                        String note = first.getFileName() + " failed to load on CUDA (" + firstLine(fp16Failure) + "); running the fp32 "
                                + fp32.getFileName() + " on " + provider;
                        LOG.warn("Model {}: {}", model, note);
                        return new Opened<>(session, sessions.cudaProvider(device.cudaId()), fp32, note);
                    } catch (ProviderUnavailable e) {
                        unavailable = e;
                        reason = "the CUDA provider could not start: " + firstLine(e);
                    } catch (LoadFailed fp32Failure) {
                        reason = "the CUDA provider started but neither file loaded on it (" + first.getFileName() + ": "
                                + firstLine(fp16Failure) + "; " + fp32.getFileName() + ": " + firstLine(fp32Failure) + ")";
                    }
                } else {
                    reason = "the CUDA provider started but " + first.getFileName() + " did not load on it: " + firstLine(fp16Failure);
                }
            }
            if (device.kind() == Device.Kind.CUDA) {
                throw new ModelLoadException("inference.device=" + device + " but CUDA could not be used for " + model + ": " + reason
                        + " (set inference.device=auto to fall back to CPU)");
            }
            Path onCpu = requested.orElse(fp32);
            String note = "inference.device=auto: " + reason + "; running " + onCpu.getFileName() + " on CPU";
            if (unavailable != null) {
                // No CUDA on this machine: what device=auto is for. The provider's own message is long and reads
                // like a failure, so it goes to DEBUG.
                LOG.info("Model {}: no usable CUDA here ({}), running on the CPU; inference.device=cuda would require a GPU",
                        model, missingLibrary(unavailable));
                LOG.debug("Model {}: {}", model, note, unavailable);
            } else {
                LOG.warn("Model {}: {}", model, note);
            }
            return new Opened<>(cpu(sessions, onCpu), "CPUExecutionProvider", onCpu, note);
        }
        Path file = requested.orElse(fp32);
        return new Opened<>(cpu(sessions, file), "CPUExecutionProvider", file, "");
    }

    private static <S> S cpu(Sessions<S> sessions, Path file) {
        try {
            return sessions.onCpu(file);
        } catch (LoadFailed e) {
            throw new ModelLoadException("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e.getCause() != null ? e.getCause() : e);
        }
    }

    /**
     * What the CUDA provider lacked, in a few words: the shared library the dynamic loader could not find
     * ("libcublasLt.so.12 not found"), else the first line of the error.
     */
    static String missingLibrary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            java.util.regex.Matcher m = MISSING_LIBRARY.matcher(message);
            if (m.find()) {
                return m.group(1) + " not found";
            }
        }
        return firstLine(e);
    }

    private static final java.util.regex.Pattern MISSING_LIBRARY =
            java.util.regex.Pattern.compile("([\\w.+-]+\\.so[\\w.]*): cannot open shared object file");

    static String firstLine(Throwable e) {
        Throwable shown = e.getCause() != null && (e instanceof ProviderUnavailable || e instanceof LoadFailed) ? e.getCause() : e;
        String message = String.valueOf(shown.getMessage());
        int newline = message.indexOf('\n');
        return shown.getClass().getSimpleName() + ": " + (newline < 0 ? message : message.substring(0, newline));
    }
}
