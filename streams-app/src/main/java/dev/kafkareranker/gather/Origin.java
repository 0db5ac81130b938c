package dev.kafkareranker.gather;

import dev.kafkareranker.avro.internal.SourceHeader;
import dev.kafkareranker.avro.internal.SourceRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Where a candidate was produced, carried in headers through the repartition topic so that a dead
 * letter written after it names the candidates topic, partition and offset and the producer's own key,
 * not the repartition topic's.
 */
final class Origin {

    static final String TOPIC = "rerank.source.topic";
    static final String PARTITION = "rerank.source.partition";
    static final String OFFSET = "rerank.source.offset";
    /** The producer's key, when it was not the query_id (the repartition topic is keyed by query_id); empty value: a null key. */
    static final String KEY = "rerank.source.key";
    private static final String NULL_KEY_MARK = "rerank.source.key.null";
    /** The rerank.dlq.reencoded value of a record the intake re-encoded, followed by its size as produced. */
    static final String REENCODED_AT_INTAKE = "texts-cut-at-intake;produced-bytes=";

    private Origin() {
    }

    /** Stamps the record's source position and, when it differs from the query id, its key. */
    static void stamp(Headers headers, RecordMetadata source, String key, String queryId) {
        for (String name : new String[] {TOPIC, PARTITION, OFFSET, KEY, NULL_KEY_MARK}) {
            headers.remove(name);
        }
        headers.add(TOPIC, source.topic().getBytes(StandardCharsets.UTF_8));
        headers.add(PARTITION, Integer.toString(source.partition()).getBytes(StandardCharsets.UTF_8));
        headers.add(OFFSET, Long.toString(source.offset()).getBytes(StandardCharsets.UTF_8));
        if (key == null) {
            headers.add(NULL_KEY_MARK, new byte[0]);
        } else if (!key.equals(queryId)) {
            headers.add(KEY, key.getBytes(StandardCharsets.UTF_8));
        }
    }

    static String topic(Headers headers, String fallback) {
        Header h = headers.lastHeader(TOPIC);
        return h == null || h.value() == null ? fallback : new String(h.value(), StandardCharsets.UTF_8);
    }

    // Before the intake stamps them, these headers are the producer's, which may hold anything: a value that
    // is not a number must not fail the dead letter of the very record that carries it.
    static int partition(Headers headers, int fallback) {
        Header h = headers.lastHeader(PARTITION);
        try {
            return h == null || h.value() == null ? fallback : Integer.parseInt(new String(h.value(), StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    static long offset(Headers headers, long fallback) {
        Header h = headers.lastHeader(OFFSET);
        try {
            return h == null || h.value() == null ? fallback : Long.parseLong(new String(h.value(), StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** The producer's key bytes: from the header when the record was re-keyed, else {@code current}. */
    static byte[] key(Headers headers, byte[] current) {
        if (headers.lastHeader(NULL_KEY_MARK) != null) {
            return null;
        }
        Header h = headers.lastHeader(KEY);
        return h == null || h.value() == null ? current : Arrays.copyOf(h.value(), h.value().length);
    }

    /**
     * The record in hand as its producer wrote it, for its dead letter now (the processing handler) or
     * later (the candidate store, should its query's scoring fail): its candidates-topic position and key
     * (from this class's headers after the repartition topic, else the record's own, given here), its
     * value bytes and its other headers, cut to what a dead letter of at most {@code maxBytes} can carry,
     * so that the store holds no byte a dead letter would drop.
     */
    static SourceRecord source(Headers headers, String topic, int partition, long offset, long timestamp, byte[] rawKey, byte[] rawValue,
                               int maxBytes) {
        byte[] key = key(headers, rawKey);
        List<Header> others = Arrays.asList(strip(headers).toArray());
        DeadLetters.Parts kept = DeadLetters.keepable(new DeadLetters.Parts(key, key == null ? 0 : key.length, rawValue,
                rawValue == null ? 0 : rawValue.length, others), maxBytes);
        List<SourceHeader> sourceHeaders = new ArrayList<>(kept.headers().size());
        for (Header h : kept.headers()) {
            sourceHeaders.add(new SourceHeader(h.key(), h.value() == null ? null : ByteBuffer.wrap(h.value())));
        }
        Header reencoded = headers.lastHeader(CandidateIntake.HEADER_REENCODED);
        return SourceRecord.newBuilder()
                .setTopic(topic(headers, topic))
                .setPartition(partition(headers, partition))
                .setOffset(offset(headers, offset))
                .setTimestamp(timestamp)
                .setKey(kept.key() == null ? null : ByteBuffer.wrap(kept.key()))
                .setKeySize(kept.keySize())
                .setValue(kept.value() == null ? null : ByteBuffer.wrap(kept.value()))
                .setValueSize(kept.valueSize())
                .setHeaders(sourceHeaders)
                // The intake re-encoded a record too large for the repartition topic (its texts cut).
                .setReencoded(reencoded == null || reencoded.value() == null ? null
                        : REENCODED_AT_INTAKE + new String(reencoded.value(), StandardCharsets.UTF_8))
                .build();
    }

    /** The headers without this class's own: a dead letter states its source in Kafka Streams' header names instead. */
    static Headers strip(Headers headers) {
        Headers out = new org.apache.kafka.common.header.internals.RecordHeaders();
        for (Header h : headers) {
            if (!h.key().startsWith("rerank.source.")) {
                out.add(h);
            }
        }
        return out;
    }
}
