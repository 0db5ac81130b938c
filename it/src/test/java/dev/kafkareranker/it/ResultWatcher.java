package dev.kafkareranker.it;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.gather.DeadLetters;
import dev.kafkareranker.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A read_committed reader of an app's results and dead letters, on a thread of its own while a test runs:
 * results per query (with the last of each), the candidates in them, incomplete ones, the duplicates they
 * report, the dead letters, and when (this JVM's clock) each result arrived. It is assigned every partition
 * of both topics and reads from the beginning, with no consumer group: nothing to join, nothing left behind.
 *
 * <p>{@link #readToEnd} is how a test knows it has seen everything: once the app has processed its input
 * ({@link Drained}), the output topics' committed end is fixed for that input, and the watcher reads to it.
 */
final class ResultWatcher implements Runnable, AutoCloseable {

    final Map<String, Integer> perQuery = new ConcurrentHashMap<>();
    /** The last result read for each query. */
    final Map<String, RankedResults> results = new ConcurrentHashMap<>();
    final Set<String> inResults = ConcurrentHashMap.newKeySet();
    final Set<String> incomplete = ConcurrentHashMap.newKeySet();
    /** Each dead letter's reason header ("?" when it has none), in the order read. */
    final ConcurrentLinkedQueue<String> deadLetters = new ConcurrentLinkedQueue<>();
    /** The dead letters themselves, as read. */
    final ConcurrentLinkedQueue<ConsumerRecord<byte[], byte[]>> deadLetterRecords = new ConcurrentLinkedQueue<>();
    /** query_id -> System.nanoTime() when its (first) result was read. */
    final Map<String, Long> arrivedNanos = new ConcurrentHashMap<>();
    /** When each result was read (System.nanoTime()), in order. */
    private final ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
    /** About when the watcher began, which a test may take as the start of its stream. */
    final long startNanos = System.nanoTime();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicLong reportedDuplicates = new AtomicLong();
    /** The reader's position on each partition after its last poll: past the records read and any transaction markers. */
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean assigned = new AtomicBoolean();
    private volatile RuntimeException failure;
    private final Pipeline pipeline;
    private final Thread thread;

    ResultWatcher(Pipeline pipeline) {
        this.pipeline = pipeline;
        this.thread = new Thread(this, "result-watcher-" + pipeline.topics().results());
        thread.start();
    }

    int count() {
        return count.get();
    }

    long reportedDuplicates() {
        return reportedDuplicates.get();
    }

    private Map<String, Object> props() {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", pipeline.bootstrap());
        props.put("isolation.level", "read_committed");
        // A reader never makes the app's topics (with the broker's default partitions); the test or the app does.
        props.put("allow.auto.create.topics", false);
        return props;
    }

    @Override
    public void run() {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", pipeline.registryUrl(), "specific.avro.reader", true), false);
        try (KafkaConsumer<String, RankedResults> results = new KafkaConsumer<>(props(), new StringDeserializer(), deserializer);
             KafkaConsumer<byte[], byte[]> dlq = new KafkaConsumer<>(props(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            assignFromTheBeginning(results, pipeline.topics().results());
            assignFromTheBeginning(dlq, pipeline.topics().deadLetters());
            assigned.set(true);
            while (running.get()) {
                for (ConsumerRecord<String, RankedResults> r : results.poll(Duration.ofMillis(50))) {
                    take(r);
                }
                for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofMillis(10))) {
                    Header reason = r.headers().lastHeader(DeadLetters.HEADER_REASON);
                    deadLetters.add(reason == null ? "?" : new String(reason.value(), StandardCharsets.UTF_8));
                    deadLetterRecords.add(r);
                }
                results.assignment().forEach(p -> positions.put(p, results.position(p)));
                dlq.assignment().forEach(p -> positions.put(p, dlq.position(p)));
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private static void assignFromTheBeginning(KafkaConsumer<?, ?> consumer, String topic) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofMinutes(1)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        if (partitions.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist");
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Counts the result last: a test that sees the count (awaitResultsFor, awaitQueries) then finds the rest filled in. */
    private void take(ConsumerRecord<String, RankedResults> r) {
        results.put(r.key(), r.value());
        long now = System.nanoTime();
        arrivedNanos.putIfAbsent(r.key(), now);
        arrivals.add(now);
        if (!r.value().getComplete()) {
            incomplete.add(r.key());
        }
        for (RankedDocument d : r.value().getResults()) {
            inResults.add(d.getDocId());
        }
        reportedDuplicates.addAndGet(r.value().getDuplicates());
        perQuery.merge(r.key(), 1, Integer::sum);
        count.incrementAndGet();
    }

    private void check() {
        if (failure != null) {
            throw new IllegalStateException("the result watcher stopped: " + failure, failure);
        }
    }

    /** Waits until at least {@code queries} queries have a result. */
    void awaitQueries(int queries, Duration deadline) throws InterruptedException {
        Await.until(queries + " queries with a result on " + pipeline.topics().results(), deadline, () -> {
            check();
            return perQuery.size() >= queries;
        }, () -> perQuery.size() + " have one");
    }

    /** Waits until each of {@code queryIds} has a result. */
    void awaitResultsFor(java.util.Collection<String> queryIds, Duration deadline) throws InterruptedException {
        Await.until(queryIds.size() + " queries' results on " + pipeline.topics().results(), deadline, () -> {
            check();
            return perQuery.keySet().containsAll(queryIds);
        }, () -> "none yet for " + queryIds.stream().filter(q -> !perQuery.containsKey(q)).sorted().toList());
    }

    /** Waits until more than {@code before} results arrived. */
    void awaitMoreThan(int before, Duration deadline) throws InterruptedException {
        Await.until("more than " + before + " results", deadline, () -> {
            check();
            return count.get() > before;
        }, () -> count.get() + " results");
    }

    /** Waits until at least {@code atLeast} dead letters were read. */
    void awaitDeadLetters(int atLeast, Duration deadline) throws InterruptedException {
        Await.until(atLeast + " dead letters on " + pipeline.topics().deadLetters(), deadline, () -> {
            check();
            return deadLetterRecords.size() >= atLeast;
        }, () -> deadLetterRecords.size() + " dead letters");
    }

    /**
     * Waits for the first result read after {@code nanos} (a restart's start: a result its killed predecessor
     * committed can still be read after the kill, and does not count) and returns when it arrived.
     */
    long firstAfter(long nanos, Duration deadline) throws InterruptedException {
        long[] first = {-1};
        Await.until("a result after the start", deadline, () -> {
            check();
            arrivals.stream().filter(t -> t >= nanos).min(Long::compare).ifPresent(t -> first[0] = t);
            return first[0] >= 0;
        });
        return first[0];
    }

    /**
     * Reads the results and dead-letter topics to their committed end as it is now (the last stable offset, which a
     * read_committed reader cannot pass): after {@link Drained}, every output of the app's input so far.
     */
    void readToEnd(Duration deadline) throws InterruptedException {
        Await.until("the watcher to be assigned its partitions", deadline, () -> {
            check();
            return assigned.get();
        });
        Map<TopicPartition, Long> ends = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> probe = new KafkaConsumer<>(props(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            for (String topic : List.of(pipeline.topics().results(), pipeline.topics().deadLetters())) {
                List<TopicPartition> partitions = probe.partitionsFor(topic, Duration.ofMinutes(1)).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                ends.putAll(probe.endOffsets(partitions, Duration.ofMinutes(1)));
            }
        }
        Await.until("the watcher to read " + pipeline.topics().results() + " and " + pipeline.topics().deadLetters() + " to " + ends, deadline,
                () -> {
                    check();
                    return ends.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue());
                }, () -> "at " + positions);
    }

    /** The dead letters read so far. */
    List<ConsumerRecord<byte[], byte[]>> deadLetterRecords() {
        return new ArrayList<>(deadLetterRecords);
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
    }
}
