package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceTest {

    @Test
    void parsesTheFourForms() {
        assertEquals(Device.Kind.AUTO, Device.parse("auto").kind());
        assertEquals(Device.Kind.CPU, Device.parse("CPU").kind());
        assertEquals(new Device(Device.Kind.CUDA, 0), Device.parse("cuda"));
        assertEquals(new Device(Device.Kind.CUDA, 3), Device.parse("cuda:3"));
    }

    @Test
    void rejectsAnythingElseNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse("gpu"));
        assertTrue(e.getMessage().contains("inference.device"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:-1"));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:x"));
    }

    @Test
    void autoRunsOnCudaWhenItLoadsAndOnCpuOtherwise() {
        ModelSpec spec = ModelDirectory.load(BundledModel.extract());
        try (OnnxModel model = OnnxModel.open(spec, InferenceOptions.defaults())) {
            String provider = model.executionProvider();
            assertTrue(provider.equals("CPUExecutionProvider") || provider.startsWith("CUDAExecutionProvider"), provider);
        }
    }

    @Test
    void requiredCudaEitherRunsOnCudaOrFailsNamingTheSetting() {
        ModelSpec spec = ModelDirectory.load(BundledModel.extract());
        InferenceOptions cuda = InferenceOptions.defaults().withDevice(Device.parse("cuda:0"));
        try (OnnxModel model = OnnxModel.open(spec, cuda)) {
            assertEquals("CUDAExecutionProvider:0", model.executionProvider());
        } catch (ModelLoadException e) {
            assertTrue(e.getMessage().contains("inference.device=cuda:0"), e.getMessage());
            assertTrue(e.getMessage().contains("inference.device=auto"), "says how to fall back: " + e.getMessage());
        }
    }

    /**
     * A fake of CUDA, which this machine lacks: its provider can fail to start, or a named file can fail
     * to load on it; it records what was opened where. The CPU side "opens" a file by naming it.
     */
    private static final class FakeCudaSessions implements SessionPlan.Sessions<String> {
        boolean providerFails;
        final java.util.Set<String> failOnCuda = new java.util.HashSet<>();
        final java.util.List<String> calls = new java.util.ArrayList<>();

        @Override
        public String onCuda(java.nio.file.Path file, int deviceId) throws SessionPlan.ProviderUnavailable, SessionPlan.LoadFailed {
            calls.add("cuda:" + deviceId + " " + file.getFileName());
            if (providerFails) {
                throw new SessionPlan.ProviderUnavailable("CUDA provider did not start",
                        new ai.onnxruntime.OrtException("libcudart.so.12: cannot open shared object file"));
            }
            if (failOnCuda.contains(file.getFileName().toString())) {
                throw new SessionPlan.LoadFailed(file + " did not load",
                        new ai.onnxruntime.OrtException("Could not find an implementation for LayerNormalization(17) node with name ''"));
            }
            return "cuda " + file.getFileName();
        }

        @Override
        public String onCpu(java.nio.file.Path file) {
            calls.add("cpu " + file.getFileName());
            return "cpu " + file.getFileName();
        }
    }

    private static final java.nio.file.Path FP32 = java.nio.file.Path.of("m", "model.onnx");
    private static final java.util.Optional<java.nio.file.Path> FP16 = java.util.Optional.of(java.nio.file.Path.of("m", "model.fp16.onnx"));

    @Test
    void onCudaAnFp16FileThatFailsToLoadIsRetriedAsFp32OnCudaNotOnCpu() {
        for (String device : List.of("auto", "cuda")) {
            FakeCudaSessions cuda = new FakeCudaSessions();
            cuda.failOnCuda.add("model.fp16.onnx");
            SessionPlan.Opened<String> opened = SessionPlan.open("m", Device.parse(device), FP32, FP16, java.util.Optional.empty(), cuda);
            assertEquals("cuda model.onnx", opened.session(), device);
            assertEquals("CUDAExecutionProvider:0", opened.provider());
            assertEquals(List.of("cuda:0 model.fp16.onnx", "cuda:0 model.onnx"), cuda.calls);
            assertTrue(opened.fallback().contains("model.fp16.onnx failed to load on CUDA") && opened.fallback().contains("LayerNormalization"),
                    "says which file failed and why: " + opened.fallback());
        }
    }

    @Test
    void autoFallsBackToCpuOnlyWhenTheCudaProviderCannotStart() {
        FakeCudaSessions cuda = new FakeCudaSessions();
        cuda.providerFails = true;
        SessionPlan.Opened<String> opened = SessionPlan.open("m", Device.parse("auto"), FP32, FP16, java.util.Optional.empty(), cuda);
        assertEquals("cpu model.onnx", opened.session(), "fp32 on the CPU: fp16 is slower there");
        assertEquals("CPUExecutionProvider", opened.provider());
        assertTrue(opened.fallback().contains("CUDA provider could not start") && opened.fallback().contains("libcudart"), opened.fallback());

        FakeCudaSessions healthy = new FakeCudaSessions();
        assertEquals("cuda model.fp16.onnx", SessionPlan.open("m", Device.parse("auto"), FP32, FP16, java.util.Optional.empty(), healthy).session());
        assertEquals(List.of("cuda:0 model.fp16.onnx"), healthy.calls);
    }

    @Test
    void withoutCudaAutoSaysInOneShortInfoLineThatItRunsOnTheCpuAndKeepsTheProviderErrorForDebug() {
        FakeCudaSessions cuda = new FakeCudaSessions();
        cuda.providerFails = true;
        try (CapturedLogs logs = new CapturedLogs()) {
            SessionPlan.open("m", Device.parse("auto"), FP32, FP16, java.util.Optional.empty(), cuda);
            assertTrue(logs.at(ch.qos.logback.classic.Level.WARN).isEmpty(), logs.at(ch.qos.logback.classic.Level.WARN).toString());
            List<String> info = logs.at(ch.qos.logback.classic.Level.INFO);
            assertEquals(1, info.size(), info.toString());
            assertEquals("Model m: no usable CUDA here (libcudart.so.12 not found), running on the CPU; inference.device=cuda would require"
                    + " a GPU", info.get(0));
            assertTrue(logs.throwablesAt(ch.qos.logback.classic.Level.DEBUG).stream().anyMatch(t -> t.contains("cannot open shared object file")),
                    "the provider's full error at DEBUG");
        }
    }

    /** The real ONNX Runtime on this machine, which has no CUDA libraries: the start-up a CPU user sees. */
    @Test
    void onAMachineWithoutCudaTheRealRuntimeLogsNoWarning() {
        ModelSpec spec = ModelDirectory.load(BundledModel.extract());
        try (CapturedLogs logs = new CapturedLogs(); OnnxModel model = OnnxModel.open(spec, InferenceOptions.defaults())) {
            if (model.executionProvider().equals("CPUExecutionProvider")) {
                assertTrue(logs.at(ch.qos.logback.classic.Level.WARN).isEmpty(), logs.at(ch.qos.logback.classic.Level.WARN).toString());
                List<String> cpu = logs.atLeast(ch.qos.logback.classic.Level.INFO, "running on the CPU");
                assertEquals(1, cpu.size());
                assertTrue(cpu.get(0).length() < 200 && cpu.get(0).contains(".so") && cpu.get(0).contains("not found"), cpu.get(0));
            }
        }
    }

    @Test
    void aCudaProviderThatCannotStartIsAnErrorWhenCudaWasAskedFor() {
        FakeCudaSessions cuda = new FakeCudaSessions();
        cuda.providerFails = true;
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> SessionPlan.open("m", Device.parse("cuda"), FP32, FP16, java.util.Optional.empty(), cuda));
        assertTrue(e.getMessage().contains("libcudart.so.12: cannot open shared object file"), "the provider's error in full: " + e.getMessage());
    }

    @Test
    void requiredCudaFailsNamingTheReasonInsteadOfFallingBack() {
        FakeCudaSessions cuda = new FakeCudaSessions();
        cuda.providerFails = true;
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> SessionPlan.open("m", Device.parse("cuda:1"), FP32, FP16, java.util.Optional.empty(), cuda));
        assertTrue(e.getMessage().contains("inference.device=cuda:1") && e.getMessage().contains("could not start")
                && e.getMessage().contains("inference.device=auto"), e.getMessage());
        assertTrue(cuda.calls.stream().noneMatch(c -> c.startsWith("cpu")), cuda.calls.toString());

        FakeCudaSessions neither = new FakeCudaSessions();
        neither.failOnCuda.addAll(List.of("model.fp16.onnx", "model.onnx"));
        ModelLoadException both = assertThrows(ModelLoadException.class,
                () -> SessionPlan.open("m", Device.parse("cuda"), FP32, FP16, java.util.Optional.empty(), neither));
        assertTrue(both.getMessage().contains("neither file loaded"), both.getMessage());
    }

    @Test
    void anAskedForVariantIsNeverSwappedForAnother() {
        FakeCudaSessions cuda = new FakeCudaSessions();
        cuda.failOnCuda.add("model.fp16.onnx");
        SessionPlan.Opened<String> opened = SessionPlan.open("m", Device.parse("auto"), FP32, FP16, FP16, cuda);
        assertEquals("cpu model.fp16.onnx", opened.session(), "inference.model.variant=fp16 stays fp16, on the CPU");
        assertTrue(opened.fallback().contains("did not load"), opened.fallback());
    }

    @Test
    void aRealCpuSessionFromThePlanGivesTheGoldenScore() throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of("..", "tools", "fixtures", "bert-cross-encoder");
        com.fasterxml.jackson.databind.JsonNode pair = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir.resolve("golden.json").toFile()).get("pairs").get(0);
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(dir), InferenceOptions.defaults().withDevice(Device.parse("cpu")))) {
            assertEquals("CPUExecutionProvider", engine.executionProvider());
            List<Score> scores = engine.score(pair.get("query").asText(), List.of(pair.get("document").asText()));
            // fp32 ONNX Runtime against fp32 torch on one pair: kernel differences stay far below 1e-4.
            assertEquals(pair.get("score").asDouble(), scores.get(0).score(), 1e-4);
        }
    }
}
