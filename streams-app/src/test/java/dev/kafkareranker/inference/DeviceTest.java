package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
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
}
