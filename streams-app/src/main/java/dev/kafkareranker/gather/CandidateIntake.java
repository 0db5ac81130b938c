package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The first step after the candidates topic: decodes and validates each record (a bad one is a dead
 * letter here, before the repartition topic, so that an 800 KB id never reaches it), keys it by its
 * query_id and stamps its source position and key in headers. The value stays the producer's bytes:
 * fields a newer producer schema added survive into any dead letter written later.
 */
final class CandidateIntake implements Processor<String, byte[], String, CandidateIntake.Intake> {

    /** The producer's bytes, and whether the producer keyed the record by its query_id. */
    record Intake(byte[] raw, boolean keyedByQueryId) {}

    /**
     * Largest record passed on as the producer's bytes: below the 1 MiB a broker accepts by default on the
     * repartition topic (max.message.bytes) and the producer's default max.request.size. With exactly-once a
     * write the broker refuses aborts the whole transaction, so an oversized record must never be sent.
     */
    static final int MAX_RAW_BYTES = 1_000_000;
    /** Header on a record passed on re-encoded (its text cut to gather.max.passage.chars): the producer's size in bytes. */
    static final String HEADER_REENCODED = "rerank.source.reencoded.from.bytes";

    private final Deserializer<RetrievalCandidate> deserializer;
    private final Serializer<RetrievalCandidate> serializer;
    private final GatherSettings settings;
    private ProcessorContext<String, Intake> context;

    CandidateIntake(Deserializer<RetrievalCandidate> deserializer, Serializer<RetrievalCandidate> serializer, GatherSettings settings) {
        this.deserializer = deserializer;
        this.serializer = serializer;
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, Intake> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        var source = context.recordMetadata().orElseThrow();
        try {
            RetrievalCandidate candidate = Candidates.validate(Candidates.decode(deserializer, source.topic(), record.value()), settings.limits());
            String queryId = candidate.getQueryId();
            Headers headers = new RecordHeaders(record.headers().toArray());
            Origin.stamp(headers, source, record.key(), queryId);
            byte[] value = record.value();
            if (size(record.key(), value, headers) > MAX_RAW_BYTES) {
                // A long passage is cut anyway before it is stored; cut here, the record fits the repartition topic.
                // Its dead letters, should it become one, then hold this copy, which their rerank.dlq.reencoded header says.
                value = serializer.serialize(source.topic(), Candidates.cap(candidate, settings.maxPassageChars()));
                headers.add(HEADER_REENCODED, Integer.toString(record.value().length).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                if (size(record.key(), value, headers) > MAX_RAW_BYTES) {
                    throw new InvalidCandidateException(Candidates.REASON_TOO_LARGE, "candidate " + candidate.getDocId() + " of query "
                            + queryId + " takes " + record.value().length + " bytes, and " + value.length + " with its texts cut to"
                            + " gather.max.passage.chars; at most " + MAX_RAW_BYTES + " fit");
                }
            }
            // No commit is asked for here (CommitPacer), so candidates produced together mostly cross the repartition
            // topic in one transaction. Asking after each forward (at most every 10 ms) split a query's candidates
            // over transactions; behind a flood on a broker in a container the next one became readable 3 s after
            // the first (its partition silent meanwhile), and the query went out incomplete at its max wait
            // (PoisonSuiteTest, 3 of 3 runs with it, 0 of 1 without; SourceClocks fixed the other cause it met).
            context.forward(new Record<>(queryId, new Intake(value, queryId.equals(record.key())), record.timestamp(), headers));
        } catch (RuntimeException e) {
            throw Failures.failTask(context.taskId(), e);
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
