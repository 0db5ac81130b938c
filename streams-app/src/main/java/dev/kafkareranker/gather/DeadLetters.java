package dev.kafkareranker.gather;

import dev.kafkareranker.avro.internal.SourceHeader;
import dev.kafkareranker.avro.internal.SourceRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of the dead letters this pipeline writes itself. Kafka Streams' built-in dead-letter queue
 * handles records that fail alone (deserialization, processing of the record in hand); a query that
 * fails as a whole after gathering (a model error) has many source records, none in hand, so its
 * candidates are written here, to the same topic, with the same header names, plus a short reason code
 * that tools can group by. A candidate that arrives after its query was emitted is written here too
 * ({@code late-candidate}): the ranking it missed has been published already. Either way a candidate's
 * dead letter is its record as produced ({@link #ofSource}): for a query's stored candidates, the copy
 * the candidate store keeps beside each decoded one; only entries an earlier version stored lack it
 * ({@link #reencoded}, marked {@value #HEADER_REENCODED}).
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
    /**
     * Ours: present when the value is this app's re-encoding of the candidate, not the producer's bytes
     * (fields a newer producer schema added are then lost); the value says why.
     */
    public static final String HEADER_REENCODED = "rerank.dlq.reencoded";
    /** A candidate an earlier version stored without its record as produced: the key is then its query_id, and no source position is known. */
    public static final String REENCODED_EARLIER_STORE = "stored-by-earlier-version";

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
        return fitted(topic, timestamp, new Parts(key, key == null ? 0 : key.length, value, value == null ? 0 : value.length,
                sourceHeaders == null ? List.of() : Arrays.asList(sourceHeaders.toArray())), errorHeaders, maxBytes);
    }

    /**
     * As {@link #fitted(String, Long, byte[], byte[], Headers, Headers, int)} for parts that may have been
     * cut before (when stored): {@value #HEADER_TRUNCATED} states the sizes as produced, not as stored.
     */
    static ProducerRecord<byte[], byte[]> fitted(String topic, Long timestamp, Parts parts, Headers errorHeaders, int maxBytes) {
        Parts fit = parts.fit(maxBytes - RECORD_OVERHEAD - size(errorHeaders));
        Headers headers = new RecordHeaders();
        fit.headers().forEach(headers::add);
        errorHeaders.forEach(headers::add);
        String cut = fit.cut();
        if (cut != null) {
            headers.add(HEADER_TRUNCATED, bytes(cut));
        }
        return new ProducerRecord<>(topic, null, timestamp, fit.key(), fit.value(), headers);
    }

    /**
     * The dead letter of one candidate, from its record as produced: the producer's key, value and
     * headers, and its candidates-topic position in Kafka Streams' header names. The processing handler
     * (a candidate in hand) and the gatherer (a query's stored candidates) both write theirs through here.
     */
    static ProducerRecord<byte[], byte[]> ofSource(String topic, SourceRecord source, String reason, Throwable cause, int maxBytes) {
        Headers errors = headers(reason, cause, source.getTopic(), source.getPartition(), source.getOffset());
        if (source.getReencoded() != null) {
            errors.add(HEADER_REENCODED, bytes(source.getReencoded()));
        }
        List<Header> sourceHeaders = new ArrayList<>(source.getHeaders().size());
        for (SourceHeader h : source.getHeaders()) {
            sourceHeaders.add(new RecordHeader(h.getKey(), array(h.getValue())));
        }
        return fitted(topic, source.getTimestamp() >= 0 ? source.getTimestamp() : null, new Parts(array(source.getKey()), source.getKeySize(),
                array(source.getValue()), source.getValueSize(), sourceHeaders), errors, maxBytes);
    }

    /**
     * The dead letter of a candidate stored without its record as produced (by an earlier version, see
     * {@link CandidateStoreSerde}): re-encoded with this app's schema, keyed by its query_id, without a
     * source position, and marked {@value #HEADER_REENCODED}={@value #REENCODED_EARLIER_STORE}.
     */
    static ProducerRecord<byte[], byte[]> reencoded(String topic, Long timestamp, byte[] key, byte[] value, String reason, Throwable cause,
                                                    int maxBytes) {
        Headers errors = headers(reason, cause);
        errors.add(HEADER_REENCODED, bytes(REENCODED_EARLIER_STORE));
        return fitted(topic, timestamp, key, value, null, errors, maxBytes);
    }

    /** The most of {@code parts} that any dead letter of at most {@code maxBytes} can carry: what the candidate store keeps. */
    static Parts keepable(Parts parts, int maxBytes) {
        return parts.fit(maxBytes - RECORD_OVERHEAD);
    }

    /**
     * A dead letter's parts beside its error headers: key and value with their sizes as produced (larger
     * than their lengths when they were cut before), and the source record's headers.
     */
    record Parts(byte[] key, int keySize, byte[] value, int valueSize, List<Header> headers) {

        /**
         * What fits {@code budget} bytes: the headers while each takes at most a quarter of what is left,
         * then the key, at most half of what is left, then the value. Used with the whole limit when a
         * candidate is stored, and with what its error headers leave when it is dead-lettered.
         */
        Parts fit(int budget) {
            List<Header> kept = new ArrayList<>();
            for (Header h : headers) {
                int s = h.key().length() + (h.value() == null ? 0 : h.value().length);
                if (s > budget / 4) {
                    continue;
                }
                budget -= s;
                kept.add(h);
            }
            byte[] k = key;
            if (k != null && k.length > budget / 2) {
                k = Arrays.copyOf(k, Math.max(0, budget / 2));
            }
            budget -= k == null ? 0 : k.length;
            byte[] v = value;
            if (v != null && v.length > budget) {
                v = Arrays.copyOf(v, Math.max(0, budget));
            }
            return new Parts(k, keySize, v, valueSize, kept);
        }

        /** "value=N", "value=N,key=M" or "key=M" (the sizes as produced) when something was cut, else null. */
        String cut() {
            boolean keyCut = key != null && key.length < keySize;
            boolean valueCut = value != null && value.length < valueSize;
            if (!keyCut && !valueCut) {
                return null;
            }
            return valueCut ? "value=" + valueSize + (keyCut ? ",key=" + keySize : "") : "key=" + keySize;
        }
    }

    static byte[] array(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
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
