package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

/**
 * Only the producer's CONCURRENT_TRANSACTIONS retry WARN and the in-process broker's TOPIC_ALREADY_EXISTS
 * auto-creation WARN are dropped; every other line passes as it was.
 */
class RoutineRetryFilterTest {

    private final LoggerContext context = new LoggerContext();
    private final RoutineRetryFilter filter = new RoutineRetryFilter();
    private final Logger sender = context.getLogger("org.apache.kafka.clients.producer.internals.Sender");
    private static final String FORMAT = "Got error produce response with correlation id {} on topic-partition {}, retrying ({} attempts left). Error: {}";

    @Test
    void theRoutineRetryOfExactlyOnceIsDropped() {
        assertEquals(FilterReply.DENY, filter.decide(null, sender, Level.WARN, FORMAT,
                new Object[] {13, "app-repartition-0", 2147483646, org.apache.kafka.common.protocol.Errors.CONCURRENT_TRANSACTIONS}, null));
    }

    @Test
    void otherRetriesOtherLevelsAndOtherLoggersPass() {
        Object[] notEnoughReplicas = {13, "t-0", 5, org.apache.kafka.common.protocol.Errors.NOT_ENOUGH_REPLICAS};
        assertEquals(FilterReply.NEUTRAL, filter.decide(null, sender, Level.WARN, FORMAT, notEnoughReplicas, null));
        Object[] concurrent = {13, "t-0", 5, "CONCURRENT_TRANSACTIONS"};
        assertEquals(FilterReply.NEUTRAL, filter.decide(null, sender, Level.ERROR, FORMAT, concurrent, null));
        assertEquals(FilterReply.NEUTRAL, filter.decide(null, context.getLogger("dev.kafkareranker.app.X"), Level.WARN, FORMAT, concurrent, null));
    }

    @Test
    void theBrokersRaceToAutoCreateATopicIsDroppedOtherFailuresPass() {
        Logger creation = context.getLogger("kafka.server.DefaultAutoTopicCreationManager");
        // The line as Kafka's broker wrote it in a demo run (a Scala interpolated string: no parameters).
        String exists = "Auto topic creation failed for __consumer_offsets with error 'TOPIC_ALREADY_EXISTS': Topic '__consumer_offsets' already exists.";
        assertEquals(FilterReply.DENY, filter.decide(null, creation, Level.WARN, exists, null, null));
        String refused = "Auto topic creation failed for __consumer_offsets with error 'INVALID_REPLICATION_FACTOR': Replication factor: 3 larger than available brokers: 1.";
        assertEquals(FilterReply.NEUTRAL, filter.decide(null, creation, Level.WARN, refused, null, null));
        assertEquals(FilterReply.NEUTRAL, filter.decide(null, sender, Level.WARN, exists, null, null));
    }
}
