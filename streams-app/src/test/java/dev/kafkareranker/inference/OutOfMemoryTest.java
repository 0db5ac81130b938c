package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import org.junit.jupiter.api.Test;

/** The messages a failed allocation arrives with, from the JVM and from ONNX Runtime's allocators, and ones that are not. */
class OutOfMemoryTest {

    @Test
    void recognisesEveryAllocatorsWords() {
        assertTrue(OutOfMemory.is(new OutOfMemoryError("Cannot reserve 268435456 bytes of direct buffer memory")));
        assertTrue(OutOfMemory.is(new InferenceException("batch failed", new OrtException(
                "Non-zero status code returned while running MatMul node. Status Message: Failed to allocate memory for requested buffer of size 805306368"))));
        assertTrue(OutOfMemory.is(new OrtException("CUDA failure 2: out of memory ; GPU=0 ; hostname=gpu-node ; file=cuda_allocator.cc")));
        // The CUDA arena at its gpu_mem_limit (inference.cuda.gpu.mem.limit.bytes).
        assertTrue(OutOfMemory.is(new OrtException("Non-zero status code returned while running Softmax node. Status Message: "
                + "BFCArena::AllocateRawInternal Available memory of 34699008 is smaller than requested bytes of 945041920")));
    }

    @Test
    void otherFailuresAreNotMemory() {
        assertFalse(OutOfMemory.is(new OrtException("Got invalid dimensions for input: input_ids for the following indices")));
        assertFalse(OutOfMemory.is(new OrtException("Available memory pattern is invalid")));
        assertFalse(OutOfMemory.is(new RuntimeException((String) null)));
    }
}
