package dev.kafkareranker.gather;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Where a query's candidates meet: partition {@code murmur2(query_id) mod N} of the repartition topic,
 * as Java's default producer partitioner puts a record keyed by its query_id (librdkafka's
 * {@code murmur2_random} too; its default, CRC32, does not). One function for both paths, so that a
 * candidate that skips the repartition topic (already on that partition of the candidates topic) and one
 * that crosses it meet in the same task. Watermark records (key "") go to every partition (KIP-837's
 * multicast, which Kafka Streams 4.3 applies to every sink, repartition topics included).
 */
final class QueryPartitioner implements StreamPartitioner<String, byte[]> {

    private final int partitions;

    /** @param partitions the repartition topic's partition count, fixed by the topology (the candidates topics' largest) */
    QueryPartitioner(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions < 1: " + partitions);
        }
        this.partitions = partitions;
    }

    static int partition(String queryId, int partitions) {
        return Utils.toPositive(Utils.murmur2(queryId.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** Whether a record keyed by {@code key}, read from {@code partition}, is where its query gathers: it can skip the repartition topic. */
    boolean gathersHere(String key, String queryId, int partition) {
        return queryId.equals(key) && partition(queryId, partitions) == partition;
    }

    @Override
    public Optional<Set<Integer>> partitions(String topic, String key, byte[] value, int numPartitions) {
        if (numPartitions != partitions) {
            // The short path decided with the topology's count: another would split queries across tasks.
            throw new IllegalStateException("The repartition topic " + topic + " has " + numPartitions + " partitions, but the topology was"
                    + " built for " + partitions + " (the candidates topics' largest count): delete it (kafka-streams-application-reset)"
                    + " or give the candidates topics that count");
        }
        if (Watermark.KEY.equals(key)) {
            Set<Integer> all = new HashSet<>();
            for (int p = 0; p < numPartitions; p++) {
                all.add(p);
            }
            return Optional.of(all);
        }
        return Optional.of(Set.of(partition(key, numPartitions)));
    }
}
