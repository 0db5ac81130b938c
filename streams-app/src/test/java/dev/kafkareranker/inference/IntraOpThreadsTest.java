package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class IntraOpThreadsTest {

    @Test
    void zeroMeansTheCoresThisJvmMayUseNotOnnxRuntimesCountOfTheMachine() {
        // ONNX Runtime's own default counts the machine's cores and pins its threads to them, escaping a
        // container's CPU limit or a taskset mask; the JVM's count follows both.
        assertEquals(Runtime.getRuntime().availableProcessors(), OnnxModel.intraOpThreads(InferenceOptions.defaults()));
        InferenceOptions three = new InferenceOptions(Device.parse("cpu"), Optional.empty(), 3, 0, 32, 8192, Duration.ofMillis(2), 1.3);
        assertEquals(3, OnnxModel.intraOpThreads(three), "a setting above 0 is taken as it is");
    }

    @Test
    void poolThreadsSpinOnlyWhileARunIsInProgressUnlessSetWhereasOnnxRuntimeAlsoSpinsBetweenRuns() throws Exception {
        FakeSessionOptions unset = new FakeSessionOptions();
        SessionSetup.cpu(unset, InferenceOptions.defaults());
        assertEquals(OpSpinning.WHILE_RUNNING, unset.spinning, "a pool spinning after its run holds a core the result's commit needs");
        FakeSessionOptions set = new FakeSessionOptions();
        SessionSetup.cpu(set, InferenceOptions.defaults().withOpSpinning(OpSpinning.ALWAYS));
        assertEquals(OpSpinning.ALWAYS, set.spinning);
        FakeSessionOptions gpu = new FakeSessionOptions();
        SessionSetup.cuda(gpu, InferenceOptions.defaults(), 0, Optional.empty());
        assertEquals(OpSpinning.WHILE_RUNNING, gpu.spinning, "a GPU session's options get it too");
    }

    @Test
    void theConfigValuesNameEachMode() throws Exception {
        for (OpSpinning mode : OpSpinning.values()) {
            assertEquals(mode, OpSpinning.parse(mode.configValue()));
        }
        assertEquals(java.util.Set.of("while-running", "always", "never"),
                java.util.Arrays.stream(OpSpinning.values()).map(OpSpinning::configValue).collect(java.util.stream.Collectors.toSet()));
    }
}
