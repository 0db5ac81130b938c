package dev.kafkareranker.gather;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A watermark record: an intake task telling every gathering task how far in event time it has read
 * one input partition. It crosses the repartition topic like a candidate, to every partition of it
 * (QueryPartitioner), keyed by the empty string (no candidate has that key there: they are keyed by
 * their query_id, and a blank one is a dead letter; a null key would not do, as Kafka Streams 4.3 drops
 * null-keyed records on their way into a repartition topic) and marked by the header {@value #HEADER}. Because an intake task's candidates and its
 * watermarks to one repartition partition are written by one producer in order, a gathering task that
 * reads watermark W of input partition P has read every candidate P's intake sent it before W.
 *
 * <p>Also the intake side's bookkeeping: per input partition, the largest record timestamp read and when
 * its last record came, and what to send next ({@link Tracker}).
 */
record Watermark(String source, long millis) {

    static final String HEADER = "rerank.watermark";
    static final String KEY = "";
    /** A running intake task reports at least this often, also when nothing changed: silence means it is not running. */
    static final long HEARTBEAT_MS = 1_000;
    private static final String VERSION = "wm1|";

    /** How a watermark (and a deadline entry) names an input partition: partition first, so no topic name can make two alike. */
    static String source(String topic, int partition) {
        return partition + "@" + topic;
    }

    byte[] encode() {
        return (VERSION + millis + "|" + source).getBytes(StandardCharsets.UTF_8);
    }

    /** The watermark {@code value} holds, or null when it is not one this version writes. */
    static Watermark decode(byte[] value) {
        if (value == null) {
            return null;
        }
        String text = new String(value, StandardCharsets.UTF_8);
        int bar = text.indexOf('|', VERSION.length());
        if (!text.startsWith(VERSION) || bar < 0) {
            return null;
        }
        try {
            return new Watermark(text.substring(bar + 1), Long.parseLong(text, VERSION.length(), bar, 10));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * One intake task's view of its input partitions. A partition's watermark is the largest record
     * timestamp read from it; once nothing came from it for {@code idleAfter} (the max wait) of the task's
     * running time, it is idle and its watermark is the wall clock: no record it still holds can belong to
     * a query older than that. Running time excludes a start, a resume after a pause and a gap in
     * punctuation (a thread held up): records that came meanwhile have not been read yet.
     */
    static final class Tracker {
        private static final class Partition {
            long maxTimestamp = Long.MIN_VALUE;
            long lastRecordMs = Long.MIN_VALUE;
            long lastSent = Long.MIN_VALUE;
            long lastSentAtMs = Long.MIN_VALUE / 2;
        }

        private final Map<String, Partition> partitions = new HashMap<>();
        private final long idleAfterMs;
        private long activeSinceMs;
        private long lastTickMs;

        /** @param sources the input partitions this task reads ({@link #source}) */
        Tracker(Iterable<String> sources, long idleAfterMs, long nowMs) {
            this.idleAfterMs = idleAfterMs;
            sources.forEach(s -> partitions.put(s, new Partition()));
            this.activeSinceMs = this.lastTickMs = nowMs;
        }

        void observe(String source, long timestamp, long nowMs) {
            Partition p = partitions.computeIfAbsent(source, s -> new Partition());
            p.maxTimestamp = Math.max(p.maxTimestamp, timestamp);
            p.lastRecordMs = nowMs;
        }

        /**
         * The watermarks to send now: each partition's that moved on since it was last sent, or was last sent
         * a heartbeat ago. {@code resumedAtMs}: when the app's input was last resumed after a pause.
         */
        java.util.List<Watermark> due(long nowMs, long resumedAtMs) {
            if (nowMs - lastTickMs > 2 * idleAfterMs) {
                activeSinceMs = nowMs;  // the thread was held up (or paused) for long: what came meanwhile is unread
            }
            lastTickMs = nowMs;
            activeSinceMs = Math.max(activeSinceMs, Math.min(resumedAtMs, nowMs));
            java.util.List<Watermark> out = new java.util.ArrayList<>();
            for (Map.Entry<String, Partition> e : partitions.entrySet()) {
                Partition p = e.getValue();
                boolean idle = nowMs - Math.max(p.lastRecordMs, activeSinceMs) >= idleAfterMs;
                long watermark = idle ? Math.max(p.maxTimestamp, nowMs) : p.maxTimestamp;
                if (watermark > p.lastSent || nowMs - p.lastSentAtMs >= HEARTBEAT_MS) {
                    p.lastSent = Math.max(p.lastSent, watermark);
                    p.lastSentAtMs = nowMs;
                    out.add(new Watermark(e.getKey(), watermark));
                }
            }
            return out;
        }
    }
}
