package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * How a GPU session's options are made: threads, TensorRT (with its shape profile, or degraded to CUDA when
 * it cannot start) and CUDA. No GPU exists here, so the options go to {@link FakeSessionOptions}, a named fake
 * of ONNX Runtime's SessionOptions; the last test runs the real ONNX Runtime, whose TensorRT and CUDA
 * providers both fail to start on this machine.
 */
class GpuSessionSetupTest {

    private static InferenceOptions withTensorRt() {
        return InferenceOptions.defaults().withDevice(Device.parse("cuda:1")).withGpu(GpuOptions.defaults().withTensorRt(true));
    }

    @Test
    void tensorRtThatCannotStartIsOneWarnAndTheSessionGoesOnWithCuda() throws Exception {
        FakeSessionOptions options = new FakeSessionOptions();
        options.tensorRtLibrariesMissing = true;
        boolean tensorRt;
        try (CapturedLogs logs = new CapturedLogs()) {
            tensorRt = SessionSetup.cuda(options, withTensorRt(), 1, Optional.of(new MemoryAwareSizer.ShapeProfile(8, 512)));
            List<String> warnings = logs.at(Level.WARN);
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).contains("TensorRT did not start on GPU 1") && warnings.get(0).contains("libnvinfer.so.10")
                    && warnings.get(0).contains("running on CUDA without it") && warnings.get(0).contains("inference.tensorrt.enabled=false"),
                    warnings.get(0));
            assertTrue(logs.at(Level.ERROR).isEmpty());
        }
        assertFalse(tensorRt);
        assertEquals(List.of("intra 1", "tensorrt", "cuda"), options.calls);
        assertEquals("1", options.cuda.get("device_id"), "the CUDA provider is added as if TensorRT had never been asked for");
    }

    @Test
    void aCudaProviderThatCannotStartIsStillThrown() {
        FakeSessionOptions options = new FakeSessionOptions();
        options.cudaLibrariesMissing = true;
        ai.onnxruntime.OrtException e = org.junit.jupiter.api.Assertions.assertThrows(ai.onnxruntime.OrtException.class,
                () -> SessionSetup.cuda(options, InferenceOptions.defaults(), 0, Optional.empty()));
        assertTrue(e.getMessage().contains("libcublasLt"));
    }

    @Test
    void cudaSessionsDefaultToOneIntraOpThreadAndCpuSessionsToOnePerCore() throws Exception {
        FakeSessionOptions gpu = new FakeSessionOptions();
        SessionSetup.cuda(gpu, InferenceOptions.defaults(), 0, Optional.empty());
        assertEquals(1, gpu.intraOpThreads, "the kernels run on the device; more threads spin beside the tokenizers");
        FakeSessionOptions cpu = new FakeSessionOptions();
        SessionSetup.cpu(cpu, InferenceOptions.defaults());
        assertEquals(Runtime.getRuntime().availableProcessors(), cpu.intraOpThreads);
        assertFalse(cpu.calls.contains("cuda"));

        InferenceOptions set = new InferenceOptions(Device.parse("cuda"), Optional.empty(), 3, 2, 32, 8192, java.time.Duration.ofMillis(2), 1.1);
        FakeSessionOptions configured = new FakeSessionOptions();
        SessionSetup.cuda(configured, set, 0, Optional.empty());
        assertEquals(List.of("intra 3", "inter 2", "cuda"), configured.calls, "a setting is taken as it is on a GPU too");
    }

    @Test
    void tensorRtGetsTheOneShapeProfileEveryBatchStaysIn() throws Exception {
        FakeSessionOptions options = new FakeSessionOptions();
        assertTrue(SessionSetup.cuda(options, withTensorRt(), 1, Optional.of(new MemoryAwareSizer.ShapeProfile(128, 512))));
        assertEquals(List.of("intra 1", "tensorrt", "cuda"), options.calls, "TensorRT first, CUDA for the nodes it cannot take");
        assertEquals("input_ids:1x1,attention_mask:1x1,token_type_ids:1x1", options.tensorRt.get("trt_profile_min_shapes"));
        assertEquals("input_ids:128x512,attention_mask:128x512,token_type_ids:128x512", options.tensorRt.get("trt_profile_opt_shapes"));
        assertEquals("input_ids:128x512,attention_mask:128x512,token_type_ids:128x512", options.tensorRt.get("trt_profile_max_shapes"));
    }

    @Test
    void theTensorRtProfileComesFromThePlannerForTheFileBeingLoaded() {
        Path dir = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
        var spec = ModelDirectory.load(dir);
        InferenceOptions trt = withTensorRt().forProvider("TensorrtExecutionProvider:1");
        MemoryAwareSizer sizer = BatchSizer.sizer(spec, spec.modelFile(), trt, "TensorrtExecutionProvider:1");
        assertTrue(sizer.oneShapeProfile());
        assertEquals(new MemoryAwareSizer.ShapeProfile(InferenceOptions.CUDA_MAX_ROWS, spec.maxLength()), sizer.tensorRtProfile(),
                "a tiny model at " + spec.maxLength() + " tokens: the row cap binds");
        MemoryAwareSizer onCuda = BatchSizer.sizer(spec, spec.modelFile(), trt, "CUDAExecutionProvider:1");
        assertFalse(onCuda.oneShapeProfile());
        assertTrue(onCuda.memory().isPresent(), "config.json states the shape");
        assertTrue(BatchSizer.sizer(spec, spec.modelFile(), InferenceOptions.defaults().forProvider("CPUExecutionProvider"),
                "CPUExecutionProvider").memory().isEmpty(), "no memory model on the CPU");
    }

    /** The real ONNX Runtime: on this machine TensorRT's provider and CUDA's both lack their libraries. */
    @Test
    void withTheRealRuntimeATensorRtThatCannotStartIsOneWarnAndAutoStillRunsOnTheCpu() {
        var spec = ModelDirectory.load(BundledModel.extract());
        InferenceOptions options = InferenceOptions.defaults().withGpu(GpuOptions.defaults().withTensorRt(true));
        try (CapturedLogs logs = new CapturedLogs(); OnnxModel model = OnnxModel.open(spec, options)) {
            String provider = model.executionProvider();
            if (provider.equals("CPUExecutionProvider")) {
                List<String> warnings = logs.at(Level.WARN);
                assertEquals(1, warnings.size(), warnings.toString());
                assertTrue(warnings.get(0).contains("TensorRT did not start"), warnings.get(0));
                assertEquals(1, logs.atLeast(Level.INFO, "running on the CPU").size(), "and one INFO line for the CPU fallback");
            } else {
                assertTrue(provider.startsWith("CUDA") || provider.startsWith("Tensorrt"), provider);
            }
        }
    }
}
