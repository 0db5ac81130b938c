package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.StoredCandidate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The first step after the candidates topic: reads each record once ({@link CandidateReader}: a bad one
 * is a dead letter here, before the repartition topic, so that an 800 KB id never reaches it) and sends
 * it on by one of two paths:
 * <ul>
 *   <li>straight to the gatherer of this task, in memory, when the producer keyed it by its query_id and
 *       it sits on the partition that query gathers on ({@link QueryPartitioner}: what Java's producer
 *       does, checked for each record, not declared);</li>
 *   <li>else through the repartition topic, keyed by its query_id, with its source position and key
 *       stamped in headers ({@link Origin}) and the candidate as read beside the producer's bytes. The
 *       value stays the producer's bytes: fields a newer producer schema added survive into any dead letter
 *       written later.</li>
 * </ul>
 * It also reports, on a wall-clock punctuation, how far in event time it has read each of its input
 * partitions, to every gathering task ({@link Watermark}).
 */
final class CandidateIntake implements Processor<String, byte[], String, CandidateIntake.Intake> {

    /** A candidate for this task's gatherer ({@code direct}), or bytes for the repartition topic (a candidate or a watermark). */
    record Intake(boolean direct, StoredCandidate stored, byte[] bytes) {}

    /**
     * Largest record passed on as the producer's bytes: below the 1 MiB a broker accepts by default on the
     * repartition topic (max.message.bytes) and the producer's default max.request.size. With exactly-once a
     * write the broker refuses aborts the whole transaction, so an oversized record must never be sent.
     */
    static final int MAX_RAW_BYTES = 1_000_000;
    /** Header on a record passed on re-encoded (its text cut to gather.max.passage.chars): the producer's size in bytes. */
    static final String HEADER_REENCODED = "rerank.source.reencoded.from.bytes";

    private final CandidateReader reader;
    private final Serializer<RetrievalCandidate> serializer;
    private final GatherSettings settings;
    private final Map<String, Integer> inputPartitions;
    private final QueryPartitioner partitioner;
    private final LongSupplier resumedAt;
    private final GatherListener listener;
    private ProcessorContext<String, Intake> context;
    private Watermark.Tracker watermarks;
    private int deadLetterMaxBytes = CountingExceptionHandlers.DEFAULT_MAX_BYTES;

    /**
     * @param inputPartitions the partition count of each candidates topic
     * @param resumedAt       when the app's input was last resumed after a pause (wall clock ms)
     */
    CandidateIntake(CandidateReader reader, Serializer<RetrievalCandidate> serializer, GatherSettings settings,
                    Map<String, Integer> inputPartitions, LongSupplier resumedAt, GatherListener listener) {
        this.reader = reader;
        this.serializer = serializer;
        this.settings = settings;
        this.inputPartitions = Map.copyOf(inputPartitions);
        this.partitioner = new QueryPartitioner(inputPartitions.values().stream().mapToInt(Integer::intValue).max().orElse(1));
        this.resumedAt = resumedAt;
        this.listener = listener;
    }

    @Override
    public void init(ProcessorContext<String, Intake> context) {
        this.context = context;
        this.deadLetterMaxBytes = CountingExceptionHandlers.maxBytes(context.appConfigs());
        // This task reads partition N of every candidates topic that has one.
        int partition = context.taskId().partition();
        List<String> sources = new ArrayList<>();
        inputPartitions.forEach((topic, count) -> {
            if (partition < count) {
                sources.add(Watermark.source(topic, partition));
            }
        });
        long now = context.currentSystemTimeMs();
        watermarks = new Watermark.Tracker(sources, settings.maxWait().toMillis(), now);
        context.schedule(settings.watermarkInterval(), PunctuationType.WALL_CLOCK_TIME, this::sendWatermarks);
    }

    private void sendWatermarks(long now) {
        for (Watermark w : watermarks.due(now, resumedAt.getAsLong())) {
            Headers headers = new RecordHeaders().add(Watermark.HEADER, new byte[] {1});
            context.forward(new Record<>(Watermark.KEY, new Intake(false, null, w.encode()), now, headers));
        }
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata source = context.recordMetadata().orElseThrow();
        try {
            watermarks.observe(Watermark.source(source.topic(), source.partition()), record.timestamp(), context.currentSystemTimeMs());
            RetrievalCandidate produced = reader.read(source.topic(), record.headers(), record.value());
            RetrievalCandidate candidate = reader.withTopicModel(source.topic(), produced);
            String queryId = candidate.getQueryId();
            Headers headers = new RecordHeaders(record.headers().toArray());
            Origin.stamp(headers, source, record.key(), queryId);
            byte[] value = record.value();
            if (size(record.key(), value, headers) > MAX_RAW_BYTES) {
                // A long passage is cut anyway before it is stored; cut here, the record fits the repartition topic and,
                // on either path, the candidate store's changelog. Its dead letters, should it become one, then hold this
                // copy, which their rerank.dlq.reencoded header says.
                // With the headers: a producer's header schema id (__value_schema_id) must not outlive the bytes it named.
                value = serializer.serialize(source.topic(), headers, produced);
                headers.add(HEADER_REENCODED, Integer.toString(record.value().length).getBytes(StandardCharsets.UTF_8));
                if (size(record.key(), value, headers) > MAX_RAW_BYTES) {
                    throw new InvalidCandidateException(Candidates.REASON_TOO_LARGE, "candidate " + candidate.getDocId() + " of query "
                            + queryId + " takes " + record.value().length + " bytes, and " + value.length + " with its texts cut to"
                            + " gather.max.passage.chars; at most " + MAX_RAW_BYTES + " fit");
                }
            }
            if (partitioner.gathersHere(record.key(), queryId, source.partition())) {
                StoredCandidate stored = new StoredCandidate(candidate, Origin.source(headers, source.topic(), source.partition(),
                        source.offset(), record.timestamp(), record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8),
                        value, deadLetterMaxBytes));
                context.forward(record.withValue(new Intake(true, stored, null)));
                return;
            }
            byte[] decoded = CandidateReader.encode(candidate);
            if (size(record.key(), value, headers) + CandidateReader.HEADER_DECODED.length() + decoded.length <= MAX_RAW_BYTES) {
                headers.add(CandidateReader.HEADER_DECODED, decoded);
            }
            // Else (no room for the copy beside the producer's bytes) the gatherer reads the candidate from them again.
            // No commit is asked for here (CommitPacer), so candidates produced together mostly cross the repartition
            // topic in one transaction. Asking after each forward (at most every 10 ms) split a query's candidates
            // over transactions; behind a flood on a broker in a container the next one became readable 3 s after
            // the first (its partition silent meanwhile), and the query went out incomplete at its max wait
            // (PoisonSuiteTest, 3 of 3 runs with it, 0 of 1 without).
            context.forward(new Record<>(queryId, new Intake(false, null, value), record.timestamp(), headers));
        } catch (RuntimeException e) {
            throw Failures.failTask(context.taskId(), e, listener);
        }
    }

    private static long size(String key, byte[] value, Headers headers) {
        long n = (key == null ? 0 : key.length() * 3L) + value.length;
        for (var h : headers) {
            n += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }
}
