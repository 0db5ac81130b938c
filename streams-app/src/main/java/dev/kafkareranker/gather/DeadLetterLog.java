package dev.kafkareranker.gather;

import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WARN line per dead letter, with its source position and reason, and rate-limited: under attack
 * (100,000 late candidates, a stream of garbage) at most {@value #BURST} lines per reason per
 * {@value #WINDOW_MS} ms are written, and the first line after a quiet spell says how many were left
 * out. Stack traces go to DEBUG: a bad record is not a bug in the code.
 */
public final class DeadLetterLog {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterLog.class);
    /** Lines per reason per window: enough to see the first few of a burst in full. */
    static final int BURST = 10;
    static final long WINDOW_MS = 10_000;

    private static final Map<String, long[]> WINDOWS = new HashMap<>();

    private DeadLetterLog() {
    }

    /**
     * Logs a dead letter, unless its reason already used its lines in this window.
     *
     * @param where "topic-partition@offset", or a description when the record has no one source position
     */
    public static void deadLetter(String reason, String where, String message, Throwable cause) {
        long suppressed = admit(reason, System.currentTimeMillis());
        if (suppressed < 0) {
            return;
        }
        String more = suppressed > 0 ? " (" + suppressed + " more dead letters for " + reason + " were not logged in the last window)" : "";
        LOG.warn("Dead letter {} from {}: {}{}", reason, where, message, more);
        if (cause != null && LOG.isDebugEnabled()) {
            LOG.debug("Dead letter " + reason + " from " + where, cause);
        }
    }

    /** -1 when the line is suppressed, else the count suppressed since the last line for this reason. */
    static synchronized long admit(String reason, long now) {
        // [window start, lines in window, suppressed since last logged line]
        long[] w = WINDOWS.computeIfAbsent(reason, r -> new long[] {now, 0, 0});
        if (now - w[0] >= WINDOW_MS) {
            w[0] = now;
            w[1] = 0;
        }
        if (w[1] >= BURST) {
            w[2]++;
            return -1;
        }
        w[1]++;
        long suppressed = w[2];
        w[2] = 0;
        return suppressed;
    }

    static String where(String topic, int partition, long offset) {
        return topic + "-" + partition + "@" + offset;
    }
}
