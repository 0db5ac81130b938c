package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The GPU providers' options as ONNX Runtime will receive them. No GPU exists here, so they go to a
 * named fake of ONNX Runtime's session options ({@link RecordingProviders}) instead of a CUDA session;
 * the real path hands the same maps to OrtCUDAProviderOptions / OrtTensorRTProviderOptions.
 */
class GpuOptionsTest {

    /** Stands in for OrtSession.SessionOptions, which cannot take a CUDA provider without a GPU. */
    private static final class RecordingProviders implements GpuOptions.ProviderSink {
        final List<String> order = new ArrayList<>();
        Map<String, String> cuda;
        Map<String, String> tensorRt;

        @Override
        public void addTensorRt(Map<String, String> options) {
            order.add("tensorrt");
            tensorRt = options;
        }

        @Override
        public void addCuda(Map<String, String> options) {
            order.add("cuda");
            cuda = options;
        }
    }

    @Test
    void cudaOptionsCarryDeviceMemoryLimitArenaSearchAndStreamSettings() throws Exception {
        GpuOptions gpu = new GpuOptions(8L << 30, "kSameAsRequested", "exhaustive", false, false, Optional.empty(), true);
        RecordingProviders sink = new RecordingProviders();
        gpu.apply(sink, 3);
        assertEquals(List.of("cuda"), sink.order, "no TensorRT unless asked for");
        assertEquals(Map.of("device_id", "3", "gpu_mem_limit", Long.toString(8L << 30), "arena_extend_strategy", "kSameAsRequested",
                "cudnn_conv_algo_search", "EXHAUSTIVE", "do_copy_in_default_stream", "0"), sink.cuda);
    }

    @Test
    void noMemoryLimitIsLeftToOnnxRuntime() throws Exception {
        RecordingProviders sink = new RecordingProviders();
        GpuOptions.defaults().apply(sink, 0);
        assertFalse(sink.cuda.containsKey("gpu_mem_limit"), sink.cuda.toString());
        assertEquals("HEURISTIC", sink.cuda.get("cudnn_conv_algo_search"));
        assertEquals("1", sink.cuda.get("do_copy_in_default_stream"));
    }

    @Test
    void tensorRtGoesBeforeCudaWithItsEngineCache() throws Exception {
        GpuOptions gpu = new GpuOptions(0, "kNextPowerOfTwo", "HEURISTIC", true, true, Optional.of(Path.of("/var/cache/trt")), true);
        RecordingProviders sink = new RecordingProviders();
        gpu.apply(sink, 1);
        assertEquals(List.of("tensorrt", "cuda"), sink.order, "TensorRT first, CUDA for the nodes it cannot take");
        assertEquals("1", sink.tensorRt.get("device_id"));
        assertEquals("1", sink.tensorRt.get("trt_engine_cache_enable"));
        assertEquals("/var/cache/trt", sink.tensorRt.get("trt_engine_cache_path"));
        assertEquals("1", sink.tensorRt.get("trt_fp16_enable"));
        assertEquals("1", sink.cuda.get("device_id"));
    }

    @Test
    void badValuesNameTheSetting() {
        IllegalArgumentException arena = assertThrows(IllegalArgumentException.class,
                () -> new GpuOptions(0, "doubling", "HEURISTIC", true, false, Optional.empty(), true));
        assertTrue(arena.getMessage().contains("inference.cuda.arena.extend.strategy 'doubling'"), arena.getMessage());
        IllegalArgumentException search = assertThrows(IllegalArgumentException.class,
                () -> new GpuOptions(0, "kNextPowerOfTwo", "fastest", true, false, Optional.empty(), true));
        assertTrue(search.getMessage().contains("inference.cuda.cudnn.conv.algo.search"), search.getMessage());
    }

    @Test
    void batchingFollowsTheProviderTheSessionOpenedOnUnlessTheUserSetIt() {
        InferenceOptions defaults = InferenceOptions.defaults();
        InferenceOptions onGpu = defaults.forProvider("CUDAExecutionProvider:0");
        assertEquals(InferenceOptions.CUDA_MAX_ROWS, onGpu.maxBatchRows());
        assertEquals(InferenceOptions.CUDA_MAX_TOKENS, onGpu.maxBatchTokens());
        assertEquals(InferenceOptions.CUDA_MAX_PADDING_RATIO, onGpu.maxPaddingRatio());
        InferenceOptions onCpu = defaults.forProvider("CPUExecutionProvider");
        assertEquals(InferenceOptions.CPU_MAX_ROWS, onCpu.maxBatchRows());
        assertEquals(InferenceOptions.CPU_MAX_TOKENS, onCpu.maxBatchTokens());
        InferenceOptions set = defaults.withBatch(8, 512);
        assertEquals(8, set.forProvider("CUDAExecutionProvider:0").maxBatchRows(), "a user's setting is kept on any device");
    }

    @Test
    void configurationKeysReachTheProviderOptions() throws Exception {
        dev.kafkareranker.app.RerankerConfig config = new dev.kafkareranker.app.RerankerConfig(Map.of(
                "schema.registry.url", "mock://gpu-options", "inference.device", "cuda:2",
                "inference.cuda.gpu.mem.limit.bytes", "1073741824", "inference.cuda.arena.extend.strategy", "kSameAsRequested",
                "inference.tensorrt.enabled", "true", "inference.tensorrt.engine.cache.dir", "/cache/trt"));
        InferenceOptions options = config.inferenceOptions();
        RecordingProviders sink = new RecordingProviders();
        options.gpu().apply(sink, options.device().cudaId());
        assertEquals(List.of("tensorrt", "cuda"), sink.order);
        assertEquals("2", sink.cuda.get("device_id"));
        assertEquals("1073741824", sink.cuda.get("gpu_mem_limit"));
        assertEquals("kSameAsRequested", sink.cuda.get("arena_extend_strategy"));
        assertEquals("/cache/trt", sink.tensorRt.get("trt_engine_cache_path"));
        assertTrue(options.batchFromDevice(), "no batch key set: the device's defaults apply");
        assertFalse(new dev.kafkareranker.app.RerankerConfig(Map.of("schema.registry.url", "mock://gpu-options",
                "inference.batch.max.tokens", "4096")).inferenceOptions().batchFromDevice(), "a batch key set by the user is kept");
    }
}
