package dev.kafkareranker.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops the producer's WARN about retrying a send the broker answered with CONCURRENT_TRANSACTIONS, and nothing
 * else. Under exactly-once that answer is routine: a stream thread's next transaction starts writing while the
 * broker still completes the previous commit, and the producer retries until it may (Kafka logs every retry at
 * WARN). A healthy app, or the demo on a loaded machine, would print it as if something were wrong; a send that
 * never succeeds still fails its task, which the app logs. Named in logback.xml.
 *
 * <p>Also the in-process broker's (demo, eval, bench, {@code reranker broker}) WARN that auto-creating
 * {@code __consumer_offsets} failed with TOPIC_ALREADY_EXISTS: two clients looking up their coordinator at
 * once both ask for it, and the second finds it made, which is what it asked for. Any other auto-creation
 * failure still shows.
 */
public final class RoutineRetryFilter extends TurboFilter {

    private static final String SENDER = "org.apache.kafka.clients.producer.internals.Sender";
    private static final String AUTO_TOPIC_CREATION = "kafka.server.DefaultAutoTopicCreationManager";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == Level.WARN && SENDER.equals(logger.getName()) && mentions(format, params, "CONCURRENT_TRANSACTIONS")) {
            return FilterReply.DENY;
        }
        if (level == Level.WARN && AUTO_TOPIC_CREATION.equals(logger.getName()) && mentions(format, params, "TOPIC_ALREADY_EXISTS")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }

    private static boolean mentions(String format, Object[] params, String text) {
        if (format != null && format.contains(text)) {
            return true;
        }
        if (params != null) {
            for (Object p : params) {
                if (p != null && String.valueOf(p).contains(text)) {
                    return true;
                }
            }
        }
        return false;
    }
}
