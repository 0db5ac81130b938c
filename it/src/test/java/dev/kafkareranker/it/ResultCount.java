package dev.kafkareranker.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Waits for a number of committed results without consuming them for a later {@link Ledger} (which
 * reads under a fixed group and commits): a fresh group each time, reading from the beginning.
 */
final class ResultCount {

    private ResultCount() {
    }

    /** Returns once {@code atLeast} records are readable (read_committed) on {@code topic}, or throws after {@code timeout}. */
    static void await(String bootstrap, String topic, int atLeast, Duration timeout) {
        Map<String, Object> props = Map.of("bootstrap.servers", bootstrap, "group.id", "result-count-" + UUID.randomUUID(),
                "auto.offset.reset", "earliest", "isolation.level", "read_committed", "enable.auto.commit", false);
        int seen = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (seen < atLeast) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(seen + " records on " + topic + " after " + timeout + ", expected at least " + atLeast);
                }
                seen += consumer.poll(Duration.ofMillis(100)).count();
            }
        }
    }
}
