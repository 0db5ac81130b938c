package dev.kafkareranker.inference;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches bounded by rows, tokens and padding ({@link BatchPlanner}) and, where the model's shape is known, by
 * the device memory their attention scores and activations take ({@link BatchMemory}), evaluated at the top of
 * each width class ({@link WidthClasses}). It learns from allocation failures: after a batch of R rows failed,
 * its width class holds at most R/2 rows (the halves the engine retries with), and grows back by an eighth
 * after each {@value #RECOVERY_RUNS} full batches that ran, never again to the R that failed. So one batch
 * fails, not every full batch; each class learns on its own. Without a shape (the CPU, or a config.json that
 * does not state one) the plans are exactly {@link BatchSizer#tokenBudget}'s until a failure is reported.
 *
 * <p>Under TensorRT ({@code oneShapeProfile}) every batch must fit one shape box, rows 1 to R and widths 1 to
 * the maximum length ({@link #tensorRtProfile}), so every width class holds at most the rows that fit at the
 * longest width: TensorRT sizes its memory for the box's corner.
 *
 * <p>Called from the engine's worker thread only (see {@link BatchSizer}).
 */
final class MemoryAwareSizer implements BatchSizer {

    private static final Logger LOG = LoggerFactory.getLogger(MemoryAwareSizer.class);

    /**
     * CUDA's context, cuBLAS and cuDNN workspaces and ONNX Runtime's own buffers live on the card outside what
     * the estimate counts: about half a GiB for the context alone on recent drivers.
     */
    static final long RESERVE_BYTES = 1L << 30;
    /** Of what is left, the share batches may plan for: ONNX Runtime's arena rounds chunks up and fragments. */
    static final double ARENA_HEADROOM = 0.8;
    /** Full batches at a narrowed cap before it grows again: slow, so that a cap near the limit is not retried often. */
    static final int RECOVERY_RUNS = 100;
    private static final int UNLEARNT = Integer.MAX_VALUE;

    /** The shapes a TensorRT engine is built for: 1 to {@code rows} rows of 1 to {@code width} tokens. */
    record ShapeProfile(int rows, int width) {}

    private final String model;
    private final int maxRows;
    private final int maxTokens;
    private final double maxPaddingRatio;
    private final WidthClasses classes;
    private final Optional<BatchMemory> memory;
    private final long budget;
    private final boolean oneShapeProfile;
    /** Rows of each class that fit the budget at its top width (maxRows without a memory model). */
    private final int[] fitting;
    private final int[] learnt;
    private final int[] failedAt;
    private final int[] fullRuns;

    /**
     * @param budget          bytes a batch's attention and activations may take (ignored without {@code memory})
     * @param oneShapeProfile whether every batch must fit one shape box (TensorRT)
     */
    MemoryAwareSizer(String model, int maxRows, int maxTokens, double maxPaddingRatio, int maxLength, Optional<BatchMemory> memory,
                     long budget, boolean oneShapeProfile) {
        if (maxRows < 1 || maxTokens < 1 || !(maxPaddingRatio >= 1)) {
            throw new IllegalArgumentException("rows " + maxRows + ", tokens " + maxTokens + ", padding " + maxPaddingRatio
                    + ": expected at least 1 each");
        }
        this.model = model;
        this.maxRows = maxRows;
        this.maxTokens = maxTokens;
        this.maxPaddingRatio = maxPaddingRatio;
        this.classes = new WidthClasses(maxLength);
        this.memory = memory;
        this.budget = budget;
        this.oneShapeProfile = oneShapeProfile;
        if (memory.isPresent() && budget <= 0) {
            LOG.warn("Model {}: its weights leave nothing of the GPU memory batches are planned in (inference.gpu.memory.bytes, "
                    + "less 1 GiB for CUDA); every batch holds one row. Raise inference.gpu.memory.bytes to your card's memory, or "
                    + "serve a smaller variant (model.fp16.onnx)", model);
        }
        this.fitting = new int[classes.count()];
        for (int c = 0; c < fitting.length; c++) {
            int top = classes.top(c);
            fitting[c] = memory.map(m -> Math.max(1, Math.min(maxRows, m.rowsFitting(top, budget)))).orElse(maxRows);
        }
        this.learnt = new int[classes.count()];
        this.failedAt = new int[classes.count()];
        this.fullRuns = new int[classes.count()];
        Arrays.fill(learnt, UNLEARNT);
        Arrays.fill(failedAt, UNLEARNT);
        if (oneShapeProfile) {
            int last = classes.count() - 1;
            int box = Math.max(1, Math.min(fitting[last], maxTokens / classes.top(last)));
            for (int c = 0; c < fitting.length; c++) {
                fitting[c] = Math.min(fitting[c], box);
            }
        }
    }

    /** Bytes a batch may take on a device of {@code deviceBytes} that holds {@code weightBytes} of weights; 0 when nothing is left. */
    static long batchBudget(long deviceBytes, long weightBytes) {
        long free = deviceBytes - weightBytes - RESERVE_BYTES;
        return free <= 0 ? 0 : (long) (free * ARENA_HEADROOM);
    }

    @Override
    public List<int[]> plan(int[] lengths) {
        return BatchPlanner.plan(lengths, width -> rowCap(classes.indexOf(width)), maxTokens, maxPaddingRatio);
    }

    /** The most rows a batch of width class {@code c} may hold now. */
    int rowCap(int c) {
        return Math.max(1, Math.min(fitting[c], learnt[c]));
    }

    /** The most rows a batch padded to {@code width} may hold now (memory, failures and the row cap; not the token budget). */
    int rowCapAt(int width) {
        return rowCap(classes.indexOf(width));
    }

    @Override
    public void allocationFailed(int rows, int width) {
        int c = classes.indexOf(width);
        failedAt[c] = Math.min(failedAt[c], Math.max(rows, 1));
        learnt[c] = Math.max(1, Math.min(rowCap(c), rows / 2));
        fullRuns[c] = 0;
        LOG.info("Model {}: a batch of {} rows x {} tokens ran out of memory; batches of up to {} tokens now hold at most {} rows, "
                + "growing back by an eighth after {} full batches, never again to {}", model, rows, width, classes.top(c), learnt[c],
                RECOVERY_RUNS, failedAt[c]);
    }

    @Override
    public void ran(int rows, int width) {
        int c = classes.indexOf(width);
        if (learnt[c] == UNLEARNT || rows < learnt[c] || ++fullRuns[c] < RECOVERY_RUNS) {
            return;
        }
        fullRuns[c] = 0;
        int grown = Math.min(learnt[c] + Math.max(1, learnt[c] / 8), failedAt[c] - 1);
        learnt[c] = Math.max(learnt[c], grown);
    }

    /** The one shape box every batch stays in under TensorRT: the rows that fit at the longest width, up to that width. */
    ShapeProfile tensorRtProfile() {
        int last = classes.count() - 1;
        return new ShapeProfile(Math.max(1, Math.min(fitting[last], maxTokens / classes.top(last))), classes.top(last));
    }

    boolean oneShapeProfile() {
        return oneShapeProfile;
    }

    Optional<BatchMemory> memory() {
        return memory;
    }

    long budget() {
        return budget;
    }

    /** One line for the start-up log: the budget and the batch at the longest width. */
    String describe() {
        int last = classes.count() - 1;
        int top = classes.top(last);
        int rows = Math.max(1, Math.min(rowCap(last), maxTokens / top));
        if (memory.isEmpty()) {
            return "batches bounded by rows and tokens (a memory bound needs a GPU and the shape in config.json); at " + top + " tokens " + rows + " rows";
        }
        BatchMemory m = memory.get();
        return String.format("batches sized for %s of device memory for attention and activations; at %d tokens %d rows "
                        + "(attention %s, activations %s, estimated)", gib(budget), top, rows, gib(m.attentionBytes(rows, top)),
                gib(m.activationBytes(rows, top)));
    }

    static String gib(long bytes) {
        return String.format("%.1f GiB", bytes / (double) (1L << 30));
    }
}
