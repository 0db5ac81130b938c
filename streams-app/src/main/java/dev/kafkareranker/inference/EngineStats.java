package dev.kafkareranker.inference;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the engine did: batches, rows, real and padded tokens, queue delays and model time, and what became of
 * long passages. Written by the engine's worker and finisher threads, read as snapshots by anyone.
 */
public final class EngineStats {

    private long batches;
    private long rows;
    private long realTokens;
    private long paddedTokens;
    private long modelNanos;
    private long queueDelayNanosTotal;
    private long queueDelayNanosMax;
    private long failedBatches;
    private final TreeMap<Integer, Long> batchRows = new TreeMap<>();
    private Passages passages = new Passages(0, 0, 0, 0, 0);

    synchronized void recordBatch(int rowCount, long real, long padded, long nanos) {
        batches++;
        rows += rowCount;
        realTokens += real;
        paddedTokens += padded;
        modelNanos += nanos;
        batchRows.merge(rowCount, 1L, Long::sum);
    }

    synchronized void recordQueueDelay(long nanos) {
        queueDelayNanosTotal += nanos;
        queueDelayNanosMax = Math.max(queueDelayNanosMax, nanos);
    }

    synchronized void recordFailedBatch() {
        failedBatches++;
    }

    /** A request's passages, once scored: how many went in chunks, and how many lost tokens. */
    synchronized void recordPassages(EncodedRequest request) {
        long chunked = 0;
        long chunkRows = 0;
        long overMaxChunks = 0;
        long cut = 0;
        for (EncodedRequest.PassageRows p : request.passages()) {
            if (p.chunks() > 1) {
                chunked++;
                chunkRows += p.chunks();
            }
            overMaxChunks += p.chunksCut() ? 1 : 0;
            cut += p.tokensCut() > 0 ? 1 : 0;
        }
        passages = new Passages(passages.scored() + request.passages().size(), passages.chunked() + chunked,
                passages.chunkRows() + chunkRows, passages.overMaxChunks() + overMaxChunks, passages.cut() + cut);
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(batches, rows, realTokens, paddedTokens, modelNanos, queueDelayNanosTotal, queueDelayNanosMax,
                failedBatches, new TreeMap<>(batchRows), passages);
    }

    /**
     * Passages scored, by what happened to the long ones.
     *
     * @param scored        passages scored
     * @param chunked       passages scored in more than one chunk
     * @param chunkRows     rows those passages took
     * @param overMaxChunks passages longer than max_chunks chunks: their rest was cut
     * @param cut           passages with tokens the model never read (max length, max_document_tokens or max_chunks)
     */
    public record Passages(long scored, long chunked, long chunkRows, long overMaxChunks, long cut) {

        Passages minus(Passages earlier) {
            return new Passages(scored - earlier.scored, chunked - earlier.chunked, chunkRows - earlier.chunkRows,
                    overMaxChunks - earlier.overMaxChunks, cut - earlier.cut);
        }
    }

    /**
     * @param batchRows how many batches had each row count
     * @param passages  the passages of the requests scored
     */
    public record Snapshot(long batches, long rows, long realTokens, long paddedTokens, long modelNanos,
                           long queueDelayNanosTotal, long queueDelayNanosMax, long failedBatches,
                           Map<Integer, Long> batchRows, Passages passages) {

        /** Computed tokens over real ones: 1.0 means no padding at all. */
        public double paddingRatio() {
            return realTokens == 0 ? 1.0 : (double) paddedTokens / realTokens;
        }

        public double meanQueueDelayMillis() {
            return rows == 0 ? 0 : queueDelayNanosTotal / 1e6 / rows;
        }

        /** The difference of two snapshots: what happened in between. */
        public Snapshot minus(Snapshot earlier) {
            TreeMap<Integer, Long> histogram = new TreeMap<>(batchRows);
            earlier.batchRows.forEach((k, v) -> histogram.merge(k, -v, Long::sum));
            histogram.values().removeIf(v -> v == 0);
            return new Snapshot(batches - earlier.batches, rows - earlier.rows, realTokens - earlier.realTokens,
                    paddedTokens - earlier.paddedTokens, modelNanos - earlier.modelNanos,
                    queueDelayNanosTotal - earlier.queueDelayNanosTotal, queueDelayNanosMax, failedBatches - earlier.failedBatches,
                    histogram, passages.minus(earlier.passages));
        }
    }
}
