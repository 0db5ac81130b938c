package dev.kafkareranker.bench;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.serde.AvroDeserializer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads results (read_committed) on its own thread, noting when each arrived. */
final class ResultCollector implements AutoCloseable {

    record Received(long nanos, long wallMs, long scoringMs, long emittedWallMs) {}

    private final Map<String, Received> received = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    ResultCollector(String bootstrap, String topic, String group) {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", BenchEnvironment.REGISTRY, "specific.avro.reader", true), false);
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        KafkaConsumer<String, RankedResults> consumer = new KafkaConsumer<>(props, new StringDeserializer(), deserializer);
        consumer.subscribe(List.of(topic));
        thread = new Thread(() -> {
            try (consumer) {
                while (running.get()) {
                    // poll returns as soon as a fetch brings records, so the timeout only bounds how long close
                    // waits; a short one (5 ms before) made the reader poll 200 times a second, 0.37 CPU s of a
                    // 24 s pass on the app's core, all of it the bench's and none the pipeline's.
                    for (ConsumerRecord<String, RankedResults> r : consumer.poll(Duration.ofMillis(200))) {
                        received.putIfAbsent(r.key(), new Received(System.nanoTime(), System.currentTimeMillis(), r.value().getScoringMs(),
                                r.value().getEmittedTime().toEpochMilli()));
                    }
                }
            }
        }, "bench-results");
        thread.start();
    }

    Map<String, Received> received() {
        return received;
    }

    void await(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (received.size() < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("bench: only " + received.size() + " of " + count + " results arrived in " + timeout);
            }
            Thread.sleep(2);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
    }
}
