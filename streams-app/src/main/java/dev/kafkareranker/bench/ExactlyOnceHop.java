package dev.kafkareranker.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The floor under (d): one exactly-once hop on the same broker, the pipeline idle. A transactional
 * producer writes one record and a consumer group's offset in one transaction and commits it, as a stream
 * thread commits a result and the input it consumed; a read_committed reader then reads the record, as
 * the bench reads a result. No Kafka Streams, no model, no stores: what is left is the transaction's
 * round trips to the broker (the records, the offsets, the commit, its markers) and the reader's fetch.
 * A pipeline that makes its results readable through an exactly-once transaction cannot add less than
 * this, so it says how much of (d)'s added latency is the broker's and how much is the pipeline's.
 */
final class ExactlyOnceHop {

    private ExactlyOnceHop() {
    }

    /**
     * {@code hops} hops, one every {@code intervalNanos} (or back to back when one takes longer), the first
     * tenth (at least 5) untimed: the clients' first transactions find no connections and cold code.
     *
     * @return each timed hop's milliseconds from the send until the reader had the record
     */
    static double[] measure(String bootstrap, String sourceTopic, String sinkTopic, int hops, long intervalNanos) throws InterruptedException {
        String id = "bench-hop-" + UUID.randomUUID();
        Map<String, Object> producerProps = Map.of("bootstrap.servers", bootstrap, "transactional.id", id,
                // linger 0: as the bench's producer; the hop is the transaction's, not the producer's batching.
                "linger.ms", 0);
        // The group whose offset each transaction commits: a member of it, as a stream thread is of its application's.
        Map<String, Object> sourceProps = Map.of("bootstrap.servers", bootstrap, "group.id", id, "auto.offset.reset", "earliest",
                "enable.auto.commit", false);
        // No group: the reader is assigned the one partition, so a run leaves no group behind on an external broker.
        Map<String, Object> readerProps = Map.of("bootstrap.servers", bootstrap, "isolation.level", "read_committed");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer());
             KafkaConsumer<String, String> source = new KafkaConsumer<>(sourceProps, new StringDeserializer(), new StringDeserializer());
             KafkaConsumer<String, String> reader = new KafkaConsumer<>(readerProps, new StringDeserializer(), new StringDeserializer())) {
            producer.initTransactions();
            source.subscribe(List.of(sourceTopic));
            TopicPartition sinkPartition = new TopicPartition(sinkTopic, 0);
            reader.assign(List.of(sinkPartition));
            reader.seekToBeginning(List.of(sinkPartition));
            long joinDeadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (source.assignment().isEmpty()) {
                if (System.nanoTime() > joinDeadline) {
                    throw new IllegalStateException("bench: the exactly-once hop's group member got no partition in a minute");
                }
                source.poll(Duration.ofMillis(50));
            }
            TopicPartition sourcePartition = source.assignment().iterator().next();
            int untimed = Math.max(5, hops / 10);
            double[] timed = new double[hops];
            long next = System.nanoTime();
            for (int i = 0; i < untimed + hops; i++) {
                while (System.nanoTime() < next) {
                    Thread.sleep(1);
                }
                next += intervalNanos;
                String value = Integer.toString(i);
                long start = System.nanoTime();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(sinkTopic, "hop", value));
                producer.sendOffsetsToTransaction(Map.of(sourcePartition, new OffsetAndMetadata(i)), source.groupMetadata());
                producer.commitTransaction();
                awaitRecord(reader, value);
                if (i >= untimed) {
                    timed[i - untimed] = (System.nanoTime() - start) / 1e6;
                }
                // Keeps the source member's poll interval short of max.poll.interval.ms: it is a member, not a reader.
                source.poll(Duration.ZERO);
            }
            return timed;
        }
    }

    private static void awaitRecord(KafkaConsumer<String, String> reader, String value) {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (System.nanoTime() < deadline) {
            // poll returns as soon as a fetch brings records: the timeout only bounds an idle wait.
            for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
                if (r.value().equals(value)) {
                    return;
                }
            }
        }
        throw new IllegalStateException("bench: the exactly-once hop's record " + value + " was not readable within a minute");
    }
}
