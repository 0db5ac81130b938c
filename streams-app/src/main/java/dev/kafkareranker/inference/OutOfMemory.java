package dev.kafkareranker.inference;

/**
 * Tells a batch that failed for lack of memory (a Java direct buffer, or the device's allocator refusing a
 * tensor) from one that failed for another reason: the first is the batch's size at fault, not its rows
 * and not the model, so it is retried smaller and never counted against a row or the circuit breaker.
 */
final class OutOfMemory {

    /** A cause chain can be made to loop; none this deep is real. */
    private static final int MAX_DEPTH = 32;

    private OutOfMemory() {
    }

    /** Whether {@code failure}, or anything in its cause chain, says an allocation failed. */
    static boolean is(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth++ < MAX_DEPTH; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
            String message = t.getMessage();
            // ONNX Runtime's arenas (CPU and CUDA BFC) say "Failed to allocate memory"; the CUDA allocator itself says
            // "out of memory" (CUDA_ERROR_OUT_OF_MEMORY, cudaErrorMemoryAllocation); a BFC arena at its limit
            // (gpu_mem_limit, which the GPU Helm values set) says "BFCArena::AllocateRawInternal Available memory of X
            // is smaller than requested bytes of Y", with neither of the other phrases.
            if (message != null && (message.contains("Failed to allocate memory") || message.contains("out of memory")
                    || (message.contains("Available memory of") && message.contains("smaller than requested bytes")))) {
                return true;
            }
        }
        return false;
    }
}
