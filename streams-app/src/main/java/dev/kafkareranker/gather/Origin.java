package dev.kafkareranker.gather;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
        return h == null ? fallback : new String(h.value(), StandardCharsets.UTF_8);
    }

    static int partition(Headers headers, int fallback) {
        Header h = headers.lastHeader(PARTITION);
        return h == null ? fallback : Integer.parseInt(new String(h.value(), StandardCharsets.UTF_8));
    }

    static long offset(Headers headers, long fallback) {
        Header h = headers.lastHeader(OFFSET);
        return h == null ? fallback : Long.parseLong(new String(h.value(), StandardCharsets.UTF_8));
    }

    /** The producer's key bytes: from the header when the record was re-keyed, else {@code current}. */
    static byte[] key(Headers headers, byte[] current) {
        if (headers.lastHeader(NULL_KEY_MARK) != null) {
            return null;
        }
        Header h = headers.lastHeader(KEY);
        return h == null ? current : Arrays.copyOf(h.value(), h.value().length);
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
