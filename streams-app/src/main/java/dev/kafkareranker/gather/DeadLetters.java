package dev.kafkareranker.gather;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of the dead letters this pipeline writes itself. Kafka Streams' built-in dead-letter queue
 * handles records that fail alone (deserialization, processing of the record in hand); a query that
 * fails as a whole after gathering (unknown model, a model error) has many source records, none in
 * hand, so its candidates are written here, to the same topic, with the same header names, plus a
 * short reason code that tools can group by. A candidate that arrives after its query was emitted is
 * written here too ({@code late-candidate}): the ranking it missed has been published already.
 */
public final class DeadLetters {

    /** Header names Kafka Streams' built-in dead-letter queue uses (KIP-1034). */
    public static final String HEADER_EXCEPTION = "__streams.errors.exception";
    public static final String HEADER_MESSAGE = "__streams.errors.message";
    public static final String HEADER_STACKTRACE = "__streams.errors.stacktrace";
    public static final String HEADER_TOPIC = "__streams.errors.topic";
    public static final String HEADER_PARTITION = "__streams.errors.partition";
    public static final String HEADER_OFFSET = "__streams.errors.offset";
    /** Ours: a stable, short reason code. */
    public static final String HEADER_REASON = "rerank.dlq.reason";

    public static final String REASON_UNKNOWN_MODEL = "unknown-model";
    public static final String REASON_SCORING_FAILED = "scoring-failed";
    public static final String REASON_LATE = "late-candidate";

    private DeadLetters() {
    }

    /** Headers for a dead letter of the record in hand, whose source position is known. */
    static Headers headers(String reason, Throwable cause, org.apache.kafka.streams.processor.api.RecordMetadata source) {
        Headers headers = headers(reason, cause);
        headers.add(HEADER_TOPIC, bytes(source.topic()));
        headers.add(HEADER_PARTITION, bytes(Integer.toString(source.partition())));
        headers.add(HEADER_OFFSET, bytes(Long.toString(source.offset())));
        return headers;
    }

    static Headers headers(String reason, Throwable cause) {
        StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER_REASON, bytes(reason));
        headers.add(HEADER_EXCEPTION, bytes(cause.getClass().getName()));
        headers.add(HEADER_MESSAGE, bytes(String.valueOf(cause.getMessage())));
        headers.add(HEADER_STACKTRACE, bytes(trace.toString()));
        return headers;
    }

    private static byte[] bytes(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
