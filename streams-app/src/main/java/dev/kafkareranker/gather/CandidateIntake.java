package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
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

    private final Deserializer<RetrievalCandidate> deserializer;
    private final GatherSettings.Limits limits;
    private ProcessorContext<String, Intake> context;

    CandidateIntake(Deserializer<RetrievalCandidate> deserializer, GatherSettings.Limits limits) {
        this.deserializer = deserializer;
        this.limits = limits;
    }

    @Override
    public void init(ProcessorContext<String, Intake> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        var source = context.recordMetadata().orElseThrow();
        RetrievalCandidate candidate;
        try {
            candidate = Candidates.validate(Candidates.decode(deserializer, source.topic(), record.value()), limits);
        } catch (RuntimeException e) {
            throw Failures.failTask(context.taskId(), e);
        }
        String queryId = candidate.getQueryId();
        Headers headers = new RecordHeaders(record.headers().toArray());
        Origin.stamp(headers, source, record.key(), queryId);
        context.forward(new Record<>(queryId, new Intake(record.value(), queryId.equals(record.key())), record.timestamp(), headers));
    }
}
