package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Decoding and validation of one candidate, the checks that need nothing but the record itself. Each
 * failure is an {@link InvalidCandidateException} whose reason code is one of the constants here.
 */
public final class Candidates {

    public static final String REASON_DESERIALIZATION = CountingExceptionHandlers.REASON_DESERIALIZATION;
    public static final String REASON_NULL_VALUE = "null-value";
    /** The writer schema is a record type of this app other than RetrievalCandidate (RankedResults, QueryState). */
    public static final String REASON_WRONG_TYPE = "wrong-type";
    public static final String REASON_BLANK_FIELD = "blank-field";
    public static final String REASON_ID_TOO_LONG = "id-too-long";
    public static final String REASON_METADATA_TOO_LARGE = "metadata-too-large";
    public static final String REASON_INVALID_COUNT = "invalid-candidate-count";
    public static final String REASON_INVALID_TOP_K = "invalid-top-k";
    /** Too large for the repartition topic even with its texts cut to gather.max.passage.chars. */
    public static final String REASON_TOO_LARGE = "record-too-large";

    private Candidates() {
    }

    /**
     * Decodes {@code bytes}. A registry that cannot answer now is rethrown as it is (the task fails and
     * the record is read again); any other decoding failure is the record's own.
     */
    static RetrievalCandidate decode(Deserializer<?> deserializer, String topic, org.apache.kafka.common.header.Headers headers, byte[] bytes) {
        // With the record's headers: a producer using Confluent's header schema ids puts the id in __value_schema_id, not in
        // the payload, and the deserializer reads it from there first.
        if (bytes == null) {
            throw new InvalidCandidateException(REASON_NULL_VALUE,
                    "null value (a tombstone?) on the candidates topic: a candidate needs a RetrievalCandidate value");
        }
        Object value;
        try {
            value = deserializer.deserialize(topic, headers, bytes);
        } catch (RuntimeException e) {
            if (Failures.registryUnavailable(e)) {
                throw e;
            }
            // The decoder's own exception type leads the message: the dead letter's exception header names ours.
            throw new InvalidCandidateException(REASON_DESERIALIZATION, e.getClass().getName() + ": " + e.getMessage());
        }
        if (!(value instanceof RetrievalCandidate candidate)) {
            throw new InvalidCandidateException(REASON_WRONG_TYPE, "the record decodes to "
                    + (value == null ? "null" : value.getClass().getName()) + ", not a RetrievalCandidate: its writer schema is not"
                    + " RetrievalCandidate's");
        }
        return candidate;
    }

    /** Checks what no candidate may be, whatever its query: blank or overlong ids, impossible counts, oversized metadata. */
    static RetrievalCandidate validate(RetrievalCandidate candidate, GatherSettings.Limits limits) {
        String queryId = candidate.getQueryId();
        String docId = candidate.getDocId();
        if (queryId.length() > limits.maxIdChars()) {
            throw new InvalidCandidateException(REASON_ID_TOO_LONG, "query_id has " + queryId.length()
                    + " characters, more than gather.max.id.chars=" + limits.maxIdChars());
        }
        if (docId.length() > limits.maxIdChars()) {
            throw new InvalidCandidateException(REASON_ID_TOO_LONG, "doc_id of query " + queryId + " has " + docId.length()
                    + " characters, more than gather.max.id.chars=" + limits.maxIdChars());
        }
        if (isBlank(queryId)) {
            throw new InvalidCandidateException(REASON_BLANK_FIELD, "candidate " + docId + " has a blank query_id");
        }
        if (isBlank(docId)) {
            throw new InvalidCandidateException(REASON_BLANK_FIELD, "candidate of query " + queryId + " has a blank doc_id");
        }
        if (isBlank(candidate.getQuery())) {
            throw new InvalidCandidateException(REASON_BLANK_FIELD, "candidate " + docId + " of query " + queryId + " has a blank query");
        }
        if (isBlank(candidate.getText())) {
            throw new InvalidCandidateException(REASON_BLANK_FIELD, "candidate " + docId + " of query " + queryId + " has a blank text");
        }
        Integer count = candidate.getCandidateCount();
        if (count != null && count <= 0) {
            throw new InvalidCandidateException(REASON_INVALID_COUNT, "candidate " + docId + " of query " + queryId
                    + " has candidate_count " + count + "; expected at least 1, or null when unknown");
        }
        Integer topK = candidate.getTopK();
        // 0 keeps every result, as rank.top.k=0 does (producers use it); below 0 means nothing.
        if (topK != null && topK < 0) {
            throw new InvalidCandidateException(REASON_INVALID_TOP_K, "candidate " + docId + " of query " + queryId
                    + " has top_k " + topK + "; expected 0 (keep all), a positive count, or null for rank.top.k");
        }
        long metadataChars = 0;
        for (Map.Entry<String, String> e : candidate.getMetadata().entrySet()) {
            metadataChars += e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
        }
        if (metadataChars > limits.maxMetadataChars()) {
            throw new InvalidCandidateException(REASON_METADATA_TOO_LARGE, "candidate " + docId + " of query " + queryId
                    + " has " + metadataChars + " characters of metadata, more than gather.max.metadata.chars=" + limits.maxMetadataChars());
        }
        return candidate;
    }

    /**
     * Cuts texts to gather.max.passage.chars before they enter the store: a model reads at most its
     * max length in tokens, so beyond that the characters only cost state and changelog bytes.
     */
    static RetrievalCandidate cap(RetrievalCandidate candidate, int max) {
        if (candidate.getText().length() > max) {
            candidate.setText(candidate.getText().substring(0, max));
        }
        if (candidate.getQuery().length() > max) {
            candidate.setQuery(candidate.getQuery().substring(0, max));
        }
        return candidate;
    }

    /**
     * Blank: nothing but white space, space separators, format characters (zero-width space U+200B,
     * joiners, BOM) and control characters. String.isBlank misses U+200B and U+00A0, and a text of
     * only those gives a model nothing to score.
     */
    static boolean isBlank(String text) {
        return text.codePoints().allMatch(cp -> Character.isWhitespace(cp) || Character.isSpaceChar(cp)
                || Character.getType(cp) == Character.FORMAT || Character.getType(cp) == Character.CONTROL
                // Hangul fillers and the braille blank render as nothing too.
                || cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800);
    }
}
