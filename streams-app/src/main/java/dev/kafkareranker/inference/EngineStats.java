package dev.kafkareranker.inference;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the engine did: batches, rows, real and padded tokens, queue delays and model time. Written by
 * the engine's one worker thread, read as snapshots by anyone.
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

    public synchronized Snapshot snapshot() {
        return new Snapshot(batches, rows, realTokens, paddedTokens, modelNanos, queueDelayNanosTotal, queueDelayNanosMax,
                failedBatches, new TreeMap<>(batchRows));
    }

    /**
     * @param batchRows how many batches had each row count
     */
    public record Snapshot(long batches, long rows, long realTokens, long paddedTokens, long modelNanos,
                           long queueDelayNanosTotal, long queueDelayNanosMax, long failedBatches,
                           Map<Integer, Long> batchRows) {

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
                    histogram);
        }
    }
}
