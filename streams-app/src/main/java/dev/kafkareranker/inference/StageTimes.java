package dev.kafkareranker.inference;

import java.util.ArrayList;
import java.util.List;

/**
 * Where one request's time went inside the engine: tokenizing, waiting in the row queue, and each model batch
 * that ran its rows, with what those batches held. A caller that wants them (a traced query) passes one to
 * {@link Scorer#scoreQueryAsync(String, List, StageTimes)}; the engine's threads fill it in and the caller reads
 * it once the scores are in. The engine knows nothing of traces: these are plain times on the engine's clock
 * ({@link System#nanoTime()}'s origin), which the caller places on its own clock through {@link #submittedNanos()}.
 *
 * <p>Written by several threads (tokenizer parts run side by side, then the worker): every method holds this
 * object's lock. A request nobody asked times for carries none, and the engine then reads no clock for it.
 */
public final class StageTimes {

    /**
     * One model call that ran some of this request's rows.
     *
     * @param startNanos   when the call started, on the engine's clock
     * @param endNanos     when its outputs were in
     * @param rows         sequences in the batch (every request's rows together)
     * @param realTokens   tokens those sequences hold
     * @param paddedTokens tokens the model computed: rows × the longest row
     */
    public record Batch(long startNanos, long endNanos, int rows, long realTokens, long paddedTokens) {}

    private long submittedNanos = Long.MIN_VALUE;
    private String device;
    private long tokenizeStart = Long.MAX_VALUE;
    private long tokenizeEnd = Long.MIN_VALUE;
    private int rows;
    private long tokens;
    private long enqueuedNanos = Long.MIN_VALUE;
    private final List<Batch> batches = new ArrayList<>(1);

    /** The engine took the request, on its clock; {@code device} is the execution provider its session runs on. */
    synchronized void submitted(long nanos, String executionProvider) {
        submittedNanos = nanos;
        device = executionProvider;
    }

    /** A part of the request was tokenized (parts run side by side): the stage spans all of them. */
    synchronized void tokenized(long startNanos, long endNanos, List<Encoded> encoded) {
        tokenizeStart = Math.min(tokenizeStart, startNanos);
        tokenizeEnd = Math.max(tokenizeEnd, endNanos);
        rows += encoded.size();
        for (Encoded e : encoded) {
            tokens += e.length();
        }
    }

    /** Its rows entered the row queue. */
    synchronized void enqueued(long nanos) {
        enqueuedNanos = nanos;
    }

    /** A model call ran some of its rows; a batch that ran several of them is recorded once. */
    synchronized void ran(Batch batch) {
        if (batches.isEmpty() || batches.get(batches.size() - 1) != batch) {
            batches.add(batch);
        }
    }

    /** When the engine took the request, on its clock; {@link Long#MIN_VALUE} when it never did (refused at once). */
    public synchronized long submittedNanos() {
        return submittedNanos;
    }

    /** The execution provider the request's model runs on (CPUExecutionProvider, CUDAExecutionProvider); null if never submitted. */
    public synchronized String device() {
        return device;
    }

    /** Whether tokenizing ended; the tokenize getters are meaningful only then. */
    public synchronized boolean wasTokenized() {
        return tokenizeEnd != Long.MIN_VALUE;
    }

    public synchronized long tokenizeStartNanos() {
        return tokenizeStart;
    }

    public synchronized long tokenizeEndNanos() {
        return tokenizeEnd;
    }

    /** Rows the request became (a passage scored in chunks is several). */
    public synchronized int rows() {
        return rows;
    }

    /** Tokens its rows hold, before padding. */
    public synchronized long tokens() {
        return tokens;
    }

    /** When its rows entered the row queue; {@link Long#MIN_VALUE} if they never did. */
    public synchronized long enqueuedNanos() {
        return enqueuedNanos;
    }

    /** The model calls that ran its rows, in the order they ran. */
    public synchronized List<Batch> batches() {
        return List.copyOf(batches);
    }

    /**
     * Tells each traced request of a batch that ran where its rows went: one {@link Batch}, shared by them all, and
     * made only when one of them wants it. For an untraced batch this is a null check per row.
     */
    static void ran(List<QueuedRow> batch, long startNanos, long endNanos) {
        Batch ran = null;
        // Indexed: an iterator would be an allocation per batch that is not traced (the batch is an ArrayList or a view of one).
        for (int i = 0; i < batch.size(); i++) {
            StageTimes times = batch.get(i).request().times;
            if (times == null) {
                continue;
            }
            if (ran == null) {
                long real = 0;
                int width = 0;
                for (QueuedRow r : batch) {
                    real += r.length();
                    width = Math.max(width, r.length());
                }
                ran = new Batch(startNanos, endNanos, batch.size(), real, (long) width * batch.size());
            }
            times.ran(ran);
        }
    }
}
