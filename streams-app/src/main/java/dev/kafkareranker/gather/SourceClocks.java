package dev.kafkareranker.gather;

import java.util.HashMap;
import java.util.Map;

/**
 * Event time per source partition, as one gathering task sees it: for each candidates-topic partition
 * whose records reach the task, the largest record timestamp read from it and when (wall clock) its last
 * record came. A query's max wait is measured in the clock of the partition its first candidate came
 * from, not in the task's stream time (the largest timestamp of any partition): through the repartition
 * topic one gathering task reads what several intake tasks wrote, each at its own pace, and an intake task
 * behind a backlog (a restart, a flood of bad records) writes records whose timestamps lie seconds behind
 * the others'. Stream time would pass such a query's deadline while its remaining candidates were still
 * in that backlog; its own partition's clock passes the deadline only once they were read, because one
 * partition's records reach the gatherer in their order.
 *
 * <p>Kafka Streams keeps stream time per task, not per source partition behind a repartition topic, and
 * offers no watermark, which is why this is kept here. It lives in memory only: after a restart a
 * partition's clock is unknown until its next record, and a partition from which nothing came for the
 * max wait counts as idle, as the task as a whole does (then the wall clock passes deadlines).
 */
final class SourceClocks {

    /** A candidates-topic partition: the intake stamps it on every record (Origin), so it is known after the repartition topic too. */
    record Source(String topic, int partition) {

        /** How a query's deadline entry names its source: partition first, so that no topic name can make two sources alike. */
        String id() {
            return partition + "@" + topic;
        }

        /** The source an id names, or null for what no id of this class looks like (a deadline entry of an earlier version). */
        static Source parse(String id) {
            int at = id.indexOf('@');
            if (at <= 0) {
                return null;
            }
            try {
                return new Source(id.substring(at + 1), Integer.parseInt(id.substring(0, at)));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    private static final class Clock {
        long maxTimestamp = Long.MIN_VALUE;
        long lastSeenMs;
    }

    private final Map<Source, Clock> clocks = new HashMap<>();

    /** A record of {@code source} with this timestamp was read at wall-clock {@code nowMs}. */
    void observe(Source source, long timestamp, long nowMs) {
        Clock clock = clocks.computeIfAbsent(source, s -> new Clock());
        clock.maxTimestamp = Math.max(clock.maxTimestamp, timestamp);
        clock.lastSeenMs = nowMs;
    }

    /**
     * Until when deadlines of queries from {@code source} have passed: the partition's clock, but never ahead
     * of the wall clock (a producer whose clock runs ahead must not time its queries out early); a partition
     * idle for the max wait (nothing read from it since {@code activeSinceMs}, the task's start or resume, or
     * since its last record) no longer holds its queries back, and the wall clock alone passes them.
     */
    long bound(Source source, long nowMs, long maxWaitMs, long activeSinceMs) {
        Clock clock = clocks.get(source);
        long lastSeen = clock == null ? activeSinceMs : Math.max(clock.lastSeenMs, activeSinceMs);
        long clockTime = clock == null ? Long.MIN_VALUE : clock.maxTimestamp;
        return nowMs - lastSeen >= maxWaitMs ? Math.max(clockTime, nowMs) : Math.min(clockTime, nowMs);
    }

    /** The largest bound any source can have now: how far a scan of deadlines must reach. */
    long maxBound(long nowMs) {
        long max = nowMs;
        for (Clock clock : clocks.values()) {
            max = Math.max(max, clock.maxTimestamp);
        }
        return max;
    }
}
