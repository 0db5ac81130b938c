package dev.kafkareranker.inference;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * @param memoryBytes          GPU memory one model's batches are planned for (weights, attention scores,
 *                             activations); {@link #DEFAULT_MEMORY_BYTES} fits a 24 GB card
 */
public record GpuOptions(long gpuMemLimitBytes, String arenaExtendStrategy, String cudnnConvAlgoSearch, boolean copyInDefaultStream,
                         boolean tensorRt, Optional<Path> tensorRtCacheDir, boolean tensorRtFp16, long memoryBytes) {

    private static final Logger LOG = LoggerFactory.getLogger(GpuOptions.class);

    /**
     * 22 GiB: what the common 24 GB cards leave usable (nvidia-smi shows about 22.5 GiB on an L4 or an A10,
     * 24 GiB on an RTX 4090), less a margin. Larger cards plan larger batches when it is raised.
     */
    public static final long DEFAULT_MEMORY_BYTES = 22L << 30;
    /** The inputs this pipeline can feed (ModelInputs checks that a graph takes no others); each gets a TensorRT profile. */
    static final List<String> PROFILED_INPUTS = List.of(TokenBatch.INPUT_IDS, TokenBatch.ATTENTION_MASK, TokenBatch.TOKEN_TYPE_IDS);

    static final Set<String> ARENA_STRATEGIES = Set.of("kNextPowerOfTwo", "kSameAsRequested");
    static final Set<String> CONV_SEARCHES = Set.of("EXHAUSTIVE", "HEURISTIC", "DEFAULT");

    /** With the default memory to plan for ({@link #DEFAULT_MEMORY_BYTES}). */
    public GpuOptions(long gpuMemLimitBytes, String arenaExtendStrategy, String cudnnConvAlgoSearch, boolean copyInDefaultStream,
                      boolean tensorRt, Optional<Path> tensorRtCacheDir, boolean tensorRtFp16) {
        this(gpuMemLimitBytes, arenaExtendStrategy, cudnnConvAlgoSearch, copyInDefaultStream, tensorRt, tensorRtCacheDir, tensorRtFp16,
                DEFAULT_MEMORY_BYTES);
    }

    public GpuOptions {
        if (memoryBytes < 1) {
            throw new IllegalArgumentException("inference.gpu.memory.bytes < 1: " + memoryBytes);
        }
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
        return new GpuOptions(0, "kNextPowerOfTwo", "HEURISTIC", true, false, Optional.empty(), true, DEFAULT_MEMORY_BYTES);
    }

    public GpuOptions withMemoryBytes(long bytes) {
        return new GpuOptions(gpuMemLimitBytes, arenaExtendStrategy, cudnnConvAlgoSearch, copyInDefaultStream, tensorRt, tensorRtCacheDir,
                tensorRtFp16, bytes);
    }

    public GpuOptions withTensorRt(boolean enabled) {
        return new GpuOptions(gpuMemLimitBytes, arenaExtendStrategy, cudnnConvAlgoSearch, copyInDefaultStream, enabled, tensorRtCacheDir,
                tensorRtFp16, memoryBytes);
    }

    /**
     * The device memory batches are planned in: {@code memoryBytes}, or the CUDA arena's limit when that is lower
     * (the arena holds the weights and every tensor of a run).
     */
    long planningBytes() {
        return gpuMemLimitBytes > 0 ? Math.min(memoryBytes, gpuMemLimitBytes) : memoryBytes;
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

    /** The TensorRT provider's options for one device, without a shape profile. */
    Map<String, String> tensorRt(int deviceId) {
        return tensorRt(deviceId, Optional.empty());
    }

    /**
     * The TensorRT provider's options for one device, with the shape profile the planner's batches stay in:
     * 1 to {@code rows} rows of 1 to {@code width} tokens. With an explicit profile TensorRT builds its engine
     * once, at start, for every shape a batch can have, instead of rebuilding it (minutes: longer than a batch
     * timeout) the first time a batch is larger or longer than any before. One profile, not one per width
     * class: ONNX Runtime 1.23's TensorRT provider builds several but runs every batch on the first
     * (microsoft/onnxruntime#31624 adds the switching), so a batch outside it would fail. ONNX Runtime looks a
     * profile up by each graph input's name, so a name the graph lacks (token_type_ids for RoBERTa) is never read.
     */
    Map<String, String> tensorRt(int deviceId, Optional<MemoryAwareSizer.ShapeProfile> profile) {
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
        profile.ifPresent(p -> {
            out.put("trt_profile_min_shapes", shapes(1, 1));
            // Tuned for a full batch of the longest rows: the shape whose speed matters most.
            out.put("trt_profile_opt_shapes", shapes(p.rows(), p.width()));
            out.put("trt_profile_max_shapes", shapes(p.rows(), p.width()));
        });
        return out;
    }

    /** ONNX Runtime's profile syntax: {@code name:rowsxwidth} for each input, comma-separated. */
    private static String shapes(int rows, int width) {
        StringJoiner out = new StringJoiner(",");
        for (String input : PROFILED_INPUTS) {
            out.add(input + ":" + rows + "x" + width);
        }
        return out.toString();
    }

    /** Where provider options go: ONNX Runtime's session options, or a test's recording fake. */
    interface ProviderSink {
        void addTensorRt(Map<String, String> options) throws Exception;

        void addCuda(Map<String, String> options) throws Exception;
    }

    /** {@link #apply(ProviderSink, int, Optional)} without a TensorRT shape profile. */
    boolean apply(ProviderSink sink, int deviceId) throws Exception {
        return apply(sink, deviceId, Optional.empty());
    }

    /**
     * TensorRT first when asked for (ONNX Runtime gives each node to the first provider that takes it), then CUDA.
     * A TensorRT provider that cannot start (its libraries, libnvinfer.so.10 and libnvonnxparser.so.10, are not
     * in the CUDA image) is one WARN, and the session goes on with CUDA alone: TensorRT is a speed-up, the GPU
     * is the point. A missing library fails while the TensorRT options are handed to ONNX Runtime (the provider
     * library is loaded to read them: OrtTensorRTProviderOptions.applyToNative, seen here), before anything is
     * appended to the session options, so a failed TensorRT leaves nothing behind. A CUDA provider that cannot
     * start is thrown.
     *
     * @return whether TensorRT was added
     */
    boolean apply(ProviderSink sink, int deviceId, Optional<MemoryAwareSizer.ShapeProfile> profile) throws Exception {
        boolean added = false;
        if (tensorRt) {
            try {
                sink.addTensorRt(tensorRt(deviceId, profile));
                added = true;
            } catch (Exception | UnsatisfiedLinkError e) {
                LOG.warn("TensorRT did not start on GPU {} ({}); running on CUDA without it. TensorRT needs libnvinfer.so.10 and "
                        + "libnvonnxparser.so.10 on the library path (the -gpu-tensorrt image, docs/gpu.md); set "
                        + "inference.tensorrt.enabled=false to not try", deviceId, SessionPlan.missingLibrary(e));
                LOG.debug("TensorRT's error in full", e);
            }
        }
        sink.addCuda(cuda(deviceId));
        return added;
    }
}
