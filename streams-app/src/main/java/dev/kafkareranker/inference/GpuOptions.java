package dev.kafkareranker.inference;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * ONNX Runtime's CUDA and TensorRT provider options, as the key/value pairs the providers take
 * (OrtCUDAProviderOptions / OrtTensorRTProviderOptions). Only read when a session opens on a GPU; no
 * GPU exists in this workplace, so these are checked as values and through a named fake, never run.
 *
 * @param gpuMemLimitBytes     most bytes the CUDA arena may hold; 0 = no limit (ONNX Runtime's default)
 * @param arenaExtendStrategy  kNextPowerOfTwo (ONNX Runtime's default: fewer, larger growths) or
 *                             kSameAsRequested (grows by exactly what is asked: less waste beside other users)
 * @param cudnnConvAlgoSearch  EXHAUSTIVE, HEURISTIC or DEFAULT; transformers have no convolutions to speak of,
 *                             so the cheap HEURISTIC avoids a costly first-run search
 * @param copyInDefaultStream  copies on the compute stream: ordered, so no synchronisation bugs; ONNX Runtime's default
 * @param tensorRt             whether TensorRT runs the graph first (nodes it cannot run fall back to CUDA)
 * @param tensorRtCacheDir     where TensorRT keeps built engines, so a restart does not rebuild them (minutes)
 * @param tensorRtFp16         whether TensorRT may build fp16 kernels
 */
public record GpuOptions(long gpuMemLimitBytes, String arenaExtendStrategy, String cudnnConvAlgoSearch, boolean copyInDefaultStream,
                         boolean tensorRt, Optional<Path> tensorRtCacheDir, boolean tensorRtFp16) {

    static final Set<String> ARENA_STRATEGIES = Set.of("kNextPowerOfTwo", "kSameAsRequested");
    static final Set<String> CONV_SEARCHES = Set.of("EXHAUSTIVE", "HEURISTIC", "DEFAULT");

    public GpuOptions {
        if (gpuMemLimitBytes < 0) {
            throw new IllegalArgumentException("inference.cuda.gpu.mem.limit.bytes < 0: " + gpuMemLimitBytes);
        }
        if (!ARENA_STRATEGIES.contains(arenaExtendStrategy)) {
            throw new IllegalArgumentException("inference.cuda.arena.extend.strategy '" + arenaExtendStrategy + "' is not one of "
                    + ARENA_STRATEGIES);
        }
        cudnnConvAlgoSearch = cudnnConvAlgoSearch.toUpperCase(Locale.ROOT);
        if (!CONV_SEARCHES.contains(cudnnConvAlgoSearch)) {
            throw new IllegalArgumentException("inference.cuda.cudnn.conv.algo.search '" + cudnnConvAlgoSearch + "' is not one of "
                    + CONV_SEARCHES);
        }
    }

    public static GpuOptions defaults() {
        return new GpuOptions(0, "kNextPowerOfTwo", "HEURISTIC", true, false, Optional.empty(), true);
    }

    /** The CUDA provider's options for one device. */
    Map<String, String> cuda(int deviceId) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("device_id", Integer.toString(deviceId));
        if (gpuMemLimitBytes > 0) {
            out.put("gpu_mem_limit", Long.toString(gpuMemLimitBytes));
        }
        out.put("arena_extend_strategy", arenaExtendStrategy);
        out.put("cudnn_conv_algo_search", cudnnConvAlgoSearch);
        out.put("do_copy_in_default_stream", copyInDefaultStream ? "1" : "0");
        return out;
    }

    /** The TensorRT provider's options for one device. */
    Map<String, String> tensorRt(int deviceId) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("device_id", Integer.toString(deviceId));
        out.put("trt_fp16_enable", tensorRtFp16 ? "1" : "0");
        tensorRtCacheDir.ifPresent(dir -> {
            out.put("trt_engine_cache_enable", "1");
            out.put("trt_engine_cache_path", dir.toString());
            // The timing cache makes rebuilding for a new shape profile faster too.
            out.put("trt_timing_cache_enable", "1");
            out.put("trt_timing_cache_path", dir.toString());
        });
        if (gpuMemLimitBytes > 0) {
            out.put("trt_max_workspace_size", Long.toString(gpuMemLimitBytes));
        }
        return out;
    }

    /** Where provider options go: ONNX Runtime's session options, or a test's recording fake. */
    interface ProviderSink {
        void addTensorRt(Map<String, String> options) throws Exception;

        void addCuda(Map<String, String> options) throws Exception;
    }

    /** TensorRT first when asked for (ONNX Runtime gives each node to the first provider that takes it), then CUDA. */
    void apply(ProviderSink sink, int deviceId) throws Exception {
        if (tensorRt) {
            sink.addTensorRt(tensorRt(deviceId));
        }
        sink.addCuda(cuda(deviceId));
    }
}
