package dev.kafkareranker.it;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A read_committed reader of results and dead letters, on a thread of its own while a test runs: results
 * per query, the candidates in them, incomplete ones, dead-letter reasons, and when (this JVM's clock) each
 * query's result arrived.
 */
final class ResultWatcher implements Runnable, AutoCloseable {

    final Map<String, Integer> perQuery = new ConcurrentHashMap<>();
    final Set<String> inResults = ConcurrentHashMap.newKeySet();
    final Set<String> incomplete = ConcurrentHashMap.newKeySet();
    final ConcurrentLinkedQueue<String> deadLetters = new ConcurrentLinkedQueue<>();
    /** query_id -> System.nanoTime() when its (first) result was read. */
    final Map<String, Long> arrivedNanos = new ConcurrentHashMap<>();
    /** When each result was read (System.nanoTime()), in order. */
    private final ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
    /** About when the watcher began, which a test may take as the start of its stream. */
    final long startNanos = System.nanoTime();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private volatile long lastNews = System.nanoTime();
    private final String bootstrap;
    private final String registryUrl;
    private final String resultsTopic;
    private final String dlqTopic;
    private final Thread thread;

    ResultWatcher(String bootstrap, String registryUrl, String resultsTopic, String dlqTopic) {
        this.bootstrap = bootstrap;
        this.registryUrl = registryUrl;
        this.resultsTopic = resultsTopic;
        this.dlqTopic = dlqTopic;
        this.thread = new Thread(this, "result-watcher-" + resultsTopic);
        thread.start();
    }

    int count() {
        return count.get();
    }

    @Override
    public void run() {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", registryUrl, "specific.avro.reader", true), false);
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", "watcher-" + resultsTopic);
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        try (KafkaConsumer<String, RankedResults> results = new KafkaConsumer<>(props, new StringDeserializer(), deserializer);
             KafkaConsumer<byte[], byte[]> dlq = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            results.subscribe(List.of(resultsTopic));
            dlq.subscribe(List.of(dlqTopic));
            while (running.get()) {
                for (ConsumerRecord<String, RankedResults> r : results.poll(Duration.ofMillis(50))) {
                    perQuery.merge(r.key(), 1, Integer::sum);
                    long now = System.nanoTime();
                    arrivedNanos.putIfAbsent(r.key(), now);
                    arrivals.add(now);
                    if (!r.value().getComplete()) {
                        incomplete.add(r.key());
                    }
                    for (RankedDocument d : r.value().getResults()) {
                        inResults.add(d.getDocId());
                    }
                    count.incrementAndGet();
                    lastNews = System.nanoTime();
                }
                for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofMillis(10))) {
                    Header reason = r.headers().lastHeader(dev.kafkareranker.gather.DeadLetters.HEADER_REASON);
                    deadLetters.add(reason == null ? "?" : new String(reason.value(), StandardCharsets.UTF_8));
                    lastNews = System.nanoTime();
                }
            }
        }
    }

    /** Waits until {@code queries} have results and nothing more came for {@code quiet}, or {@code timeout} passed. */
    void awaitQuiet(int queries, Duration quiet, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && (perQuery.size() < queries || System.nanoTime() - lastNews < quiet.toNanos())) {
            Thread.sleep(50);
        }
    }

    /** Waits until more than {@code before} results arrived, or {@code timeout} passed. */
    void awaitMoreThan(int before, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count.get() <= before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    /**
     * Waits for the first result read after {@code nanos} (a restart's start: a result its killed predecessor
     * committed can still be read after the kill, and does not count) and returns when it arrived.
     */
    long firstAfter(long nanos, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            java.util.Optional<Long> first = arrivals.stream().filter(t -> t >= nanos).min(Long::compare);
            if (first.isPresent()) {
                return first.orElseThrow();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no result within " + timeout + " after the start");
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
    }
}
