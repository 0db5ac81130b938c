package dev.kafkareranker.gather;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Event-time progress of every input partition that can feed one gathering task, as their intake tasks
 * report it (watermark records, {@link Watermark}): a query's max wait may pass only once every one of
 * them has passed its deadline. Through the repartition topic any input partition can send a query's
 * candidates to any gathering task (a producer keying by doc_id, or not at all), so the low watermark
 * across all of them is what says that none of its candidates can still be on its way, as Flink aligns
 * the watermarks of a task's inputs.
 *
 * <p>An input partition whose intake task is not running (its instance left, was killed, or is being
 * rebalanced) sends nothing and so holds every deadline: its unread records may hold a query's remaining
 * candidates. Not forever: one silent for {@code maxHold} (counted from when this task started, or the
 * input was resumed, if later) is left out, and the wall clock decides for it. Running intake tasks
 * report at least every {@link Watermark#HEARTBEAT_MS}, idle ones included (their watermark is then their
 * clock), so only a stopped one goes silent.
 */
final class UpstreamWatermarks {

    private static final class Upstream {
        long watermark = Long.MIN_VALUE;
        long lastHeardMs = Long.MIN_VALUE;
    }

    private final Map<String, Upstream> upstream = new HashMap<>();
    private final long maxHoldMs;

    /** @param expected the input partitions ({@link Watermark#source}) known to feed this task, heard from or not */
    UpstreamWatermarks(Set<String> expected, long maxHoldMs) {
        this.maxHoldMs = maxHoldMs;
        expected.forEach(source -> upstream.put(source, new Upstream()));
    }

    /** A watermark from {@code source}, heard at wall clock {@code nowMs}. Watermarks never go back: a restarted intake resends older ones. */
    void observe(String source, long watermark, long nowMs) {
        Upstream u = upstream.computeIfAbsent(source, s -> new Upstream());
        u.watermark = Math.max(u.watermark, watermark);
        u.lastHeardMs = nowMs;
    }

    /**
     * The lowest watermark of the input partitions heard from within {@code maxHold} (or, if none was heard
     * since {@code activeSinceMs}, the task's start or resume, not yet silent for that long); Long.MIN_VALUE
     * while one of them has said nothing yet, Long.MAX_VALUE when every one is silent.
     */
    long low(long nowMs, long activeSinceMs) {
        long low = Long.MAX_VALUE;
        for (Upstream u : upstream.values()) {
            if (nowMs - Math.max(u.lastHeardMs, activeSinceMs) >= maxHoldMs) {
                continue;  // silent too long: the wall clock decides for it
            }
            low = Math.min(low, u.watermark);
        }
        return low;
    }
}
