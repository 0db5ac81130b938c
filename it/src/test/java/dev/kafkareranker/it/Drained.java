package dev.kafkareranker.it;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Waits until an app has processed every candidate sent so far, by its own account: its consumer group (the
 * application.id) has committed the end of every partition of the candidates topic, and then, on each of its
 * repartition topics, at least the end that topic had at that moment (what the intake wrote for those
 * candidates; watermark heartbeats keep adding to it). Under exactly-once an input offset commits in one
 * transaction with everything processing the records before it wrote, so from then on every result and dead
 * letter those candidates make by being processed is readable: a read_committed reader that reads the output
 * topics to their end has seen them all, and a second result or an extra dead letter cannot come later from
 * that input. (What a punctuation emits, a query flushed at its max wait, a test counts by waiting for it.)
 * This replaces "nothing arrived for a few seconds", which a loaded machine can make true too early.
 */
final class Drained {

    private Drained() {
    }

    static void await(Pipeline pipeline, Duration deadline) throws InterruptedException {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", pipeline.bootstrap()))) {
            List<TopicPartition> candidates = partitions(admin, List.of(pipeline.topics().candidates()));
            Map<TopicPartition, Long> candidateEnds = ends(admin, candidates);
            Await.until("the app to commit every candidate sent (" + candidateEnds + ")", deadline,
                    () -> behind(admin, pipeline.applicationId(), candidateEnds).isEmpty(),
                    () -> "not yet committed: " + behind(admin, pipeline.applicationId(), candidateEnds));
            String prefix = pipeline.applicationId() + "-";
            List<String> repartition = call(() -> admin.listTopics().names().get()).stream()
                    .filter(t -> t.startsWith(prefix) && t.endsWith("-repartition")).sorted().toList();
            Map<TopicPartition, Long> repartitionEnds = ends(admin, partitions(admin, repartition));
            Await.until("the app to commit what its intake wrote to " + repartition + " for them", deadline,
                    () -> behind(admin, pipeline.applicationId(), repartitionEnds).isEmpty(),
                    () -> "not yet committed: " + behind(admin, pipeline.applicationId(), repartitionEnds));
        }
    }

    /** The partitions whose committed offset is short of {@code ends}, with both figures; empty when none is. */
    private static Map<TopicPartition, String> behind(Admin admin, String group, Map<TopicPartition, Long> ends) {
        Map<TopicPartition, OffsetAndMetadata> committed = call(() -> admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get());
        Map<TopicPartition, String> behind = new HashMap<>();
        ends.forEach((partition, end) -> {
            OffsetAndMetadata at = committed.get(partition);
            long offset = at == null ? 0 : at.offset();
            if (offset < end) {
                behind.put(partition, offset + " of " + end);
            }
        });
        return behind;
    }

    private static List<TopicPartition> partitions(Admin admin, List<String> topics) {
        if (topics.isEmpty()) {
            return List.of();
        }
        return call(() -> admin.describeTopics(topics).allTopicNames().get()).values().stream()
                .flatMap(d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition()))).toList();
    }

    private static Map<TopicPartition, Long> ends(Admin admin, List<TopicPartition> partitions) {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        partitions.forEach(p -> latest.put(p, OffsetSpec.latest()));
        Map<TopicPartition, Long> ends = new HashMap<>();
        call(() -> admin.listOffsets(latest).all().get()).forEach((p, info) -> ends.put(p, info.offset()));
        return ends;
    }

    private interface Call<T> {
        T get() throws InterruptedException, ExecutionException;
    }

    private static <T> T call(Call<T> call) {
        try {
            return call.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the broker", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the broker did not answer: " + e.getCause(), e);
        }
    }
}
