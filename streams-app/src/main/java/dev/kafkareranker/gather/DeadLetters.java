package dev.kafkareranker.gather;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of the dead letters this pipeline writes itself. Kafka Streams' built-in dead-letter queue
 * handles records that fail alone (deserialization, processing of the record in hand); a query that
 * fails as a whole after gathering (a model error) has many source records, none in hand, so its
 * candidates are written here, to the same topic, with the same header names, plus a short reason code
 * that tools can group by. A candidate that arrives after its query was emitted is written here too
 * ({@code late-candidate}): the ranking it missed has been published already.
 *
 * <p>A dead letter must fit the producer's {@code max.request.size} (1 MiB by default), or writing it
 * would fail the task again on every restart: values are cut to {@code dead.letters.max.bytes} with
 * {@value #HEADER_TRUNCATED} giving the original size, and stack traces to {@value #MAX_STACKTRACE_CHARS}
 * characters.
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
    /** Ours: present when the value (or key) was cut to fit; "value=N" or "value=N,key=M", the original sizes in bytes. */
    public static final String HEADER_TRUNCATED = "rerank.dlq.truncated";

    public static final String REASON_UNKNOWN_MODEL = "unknown-model";
    public static final String REASON_SCORING_FAILED = "scoring-failed";
    public static final String REASON_LATE = "late-candidate";
    public static final String REASON_MODEL_CONFLICT = "model-conflict";

    /** A trace beyond this says nothing more about a record's fault, and every byte of it counts against the size limit. */
    public static final int MAX_STACKTRACE_CHARS = 8_192;
    /** Headers of a single message, source headers excluded: a few hundred bytes, plus the capped stack trace. */
    private static final int RECORD_OVERHEAD = 1_024;

    private DeadLetters() {
    }

    /** Headers for a dead letter of the record in hand, whose source position is known. */
    static Headers headers(String reason, Throwable cause, org.apache.kafka.streams.processor.api.RecordMetadata source) {
        return headers(reason, cause, source.topic(), source.partition(), source.offset());
    }

    static Headers headers(String reason, Throwable cause, String topic, int partition, long offset) {
        Headers headers = headers(reason, cause);
        headers.add(HEADER_TOPIC, bytes(topic));
        headers.add(HEADER_PARTITION, bytes(Integer.toString(partition)));
        headers.add(HEADER_OFFSET, bytes(Long.toString(offset)));
        return headers;
    }

    static Headers headers(String reason, Throwable cause) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER_REASON, bytes(reason));
        headers.add(HEADER_EXCEPTION, bytes(cause.getClass().getName()));
        headers.add(HEADER_MESSAGE, bytes(cut(String.valueOf(cause.getMessage()), MAX_STACKTRACE_CHARS)));
        headers.add(HEADER_STACKTRACE, bytes(stackTrace(cause)));
        return headers;
    }

    static String stackTrace(Throwable cause) {
        StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        return cut(trace.toString(), MAX_STACKTRACE_CHARS);
    }

    private static String cut(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "... (" + (text.length() - max) + " more characters)";
    }

    /**
     * A dead letter for the dead-letter topic, cut to fit {@code maxBytes}: the source record's headers
     * are kept while they fit, then the value and at last the key are cut, and the cut is stated in
     * {@value #HEADER_TRUNCATED}.
     */
    static ProducerRecord<byte[], byte[]> fitted(String topic, Long timestamp, byte[] key, byte[] value, Headers sourceHeaders,
                                                 Headers errorHeaders, int maxBytes) {
        Headers headers = new RecordHeaders();
        int budget = maxBytes - RECORD_OVERHEAD - size(errorHeaders);
        if (sourceHeaders != null) {
            for (Header h : sourceHeaders) {
                int s = h.key().length() + (h.value() == null ? 0 : h.value().length);
                if (s > budget / 4) {
                    continue;
                }
                budget -= s;
                headers.add(h);
            }
        }
        errorHeaders.forEach(headers::add);
        String cut = null;
        if (key != null && key.length > budget / 2) {
            cut = "key=" + key.length;
            key = Arrays.copyOf(key, Math.max(0, budget / 2));
        }
        budget -= key == null ? 0 : key.length;
        if (value != null && value.length > budget) {
            cut = "value=" + value.length + (cut == null ? "" : "," + cut);
            value = Arrays.copyOf(value, Math.max(0, budget));
        }
        if (cut != null) {
            headers.add(HEADER_TRUNCATED, bytes(cut));
        }
        return new ProducerRecord<>(topic, null, timestamp, key, value, headers);
    }

    private static int size(Headers headers) {
        int n = 0;
        for (Header h : headers) {
            n += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    static byte[] bytes(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
