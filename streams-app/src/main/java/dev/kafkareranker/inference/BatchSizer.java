package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Cuts a pool of rows into batches for one model on one device, and learns from batches that ran out of
 * device memory. The engine's batching loop asks it for plans and tells it how each batch went; what
 * bounds a batch (rows, tokens, padding, attention and activation bytes) is the sizer's own business.
 * Called from the engine's worker thread only.
 */
interface BatchSizer {

    /**
     * Indices into {@code lengths} (each row's token count), grouped into batches. Every index appears
     * exactly once; a row longer than any budget still gets a batch of its own.
     */
    List<int[]> plan(int[] lengths);

    /**
     * A batch of {@code rows} rows padded to {@code width} tokens failed for lack of memory
     * ({@link OutOfMemory#is}): later plans for that width must be smaller, so that one failure is not
     * repeated by every full batch.
     */
    default void allocationFailed(int rows, int width) {
    }

    /** A batch of {@code rows} × {@code width} ran: a budget narrowed by a failure may widen again, slowly. */
    default void ran(int rows, int width) {
    }

    /** Rows, tokens and padding ratio alone ({@link BatchPlanner}): no memory model, nothing learnt. */
    static BatchSizer tokenBudget(int maxRows, int maxTokens, double maxPaddingRatio) {
        return lengths -> BatchPlanner.plan(lengths, maxRows, maxTokens, maxPaddingRatio);
    }

    /**
     * The sizer for a model whose session opened on {@code executionProvider} from {@code loadedFile}. On a GPU
     * (CUDA or TensorRT) with a shape in the directory's config.json, batches are bounded by the memory their
     * attention scores and activations take ({@link BatchMemory}) within the GPU memory the options give
     * ({@link GpuOptions#memoryBytes}, less the weights: the loaded file and its external data); elsewhere by
     * rows, tokens and padding, exactly as {@link #tokenBudget}, until an allocation failure is reported. Both
     * learn from allocation failures ({@link MemoryAwareSizer}). Under TensorRT every batch stays in the one
     * shape profile its engine was built for ({@link MemoryAwareSizer#tensorRtProfile}).
     *
     * @param resolved the options as {@link InferenceOptions#forProvider} made them for this provider
     */
    static BatchSizer forModel(ModelSpec spec, Path loadedFile, InferenceOptions resolved, String executionProvider) {
        return sizer(spec, loadedFile, resolved, executionProvider);
    }

    /** {@link #forModel} with its concrete type, for the session's TensorRT profiles and the start-up log. */
    static MemoryAwareSizer sizer(ModelSpec spec, Path loadedFile, InferenceOptions resolved, String executionProvider) {
        boolean tensorRt = executionProvider.startsWith("Tensorrt");
        boolean gpu = tensorRt || executionProvider.startsWith("CUDA");
        Optional<BatchMemory> memory = Optional.empty();
        long budget = 0;
        if (gpu) {
            Optional<ModelShape> shape = ModelShape.read(spec.modelFile().getParent().resolve(ModelDirectory.CONFIG_JSON));
            if (shape.isPresent()) {
                int elementBytes = loadedFile.getFileName().toString().equals(ModelDirectory.Variant.FP16.fileName()) ? 2 : 4;
                memory = Optional.of(new BatchMemory(shape.get(), elementBytes, spec.kind() == ModelKind.CAUSAL_LM));
                budget = MemoryAwareSizer.batchBudget(resolved.gpu().planningBytes(), weightBytes(loadedFile));
            }
        }
        return new MemoryAwareSizer(spec.name(), resolved.maxBatchRows(), resolved.maxBatchTokens(), resolved.maxPaddingRatio(),
                spec.maxLength(), memory, budget, tensorRt);
    }

    /** The weights a session holds: the ONNX file and, for models over 2 GB, its external data file beside it. */
    static long weightBytes(Path onnxFile) {
        try {
            Path data = onnxFile.resolveSibling(onnxFile.getFileName() + ".data");
            return Files.size(onnxFile) + (Files.isRegularFile(data) ? Files.size(data) : 0);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the size of " + onnxFile, e);
        }
    }
}
