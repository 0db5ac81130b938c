package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * The one place a candidate is read: decoded from the producer's bytes, validated, given its topic's
 * default model when it names none, and its texts cut to gather.max.passage.chars (a model reads at most
 * its max length in tokens; beyond that the characters only cost state and changelog bytes). The intake
 * reads each candidate once; what it read travels on to the gatherer, in memory when the candidate skips
 * the repartition topic, else in the header {@value #HEADER_DECODED} in Avro's single-object encoding
 * (no registry needed to read it). Only a record an earlier version's intake wrote to the repartition
 * topic lacks that header and is read again here.
 */
final class CandidateReader {

    /** The candidate as read, beside the producer's bytes on the repartition topic; "rerank.source." headers never reach a dead letter. */
    static final String HEADER_DECODED = "rerank.source.candidate";

    private static final StoreSerde<RetrievalCandidate> INTERNAL = new StoreSerde<>(RetrievalCandidate.class, null);

    private final Deserializer<RetrievalCandidate> deserializer;
    private final GatherSettings settings;
    private final Map<String, String> modelByTopic;

    CandidateReader(Deserializer<RetrievalCandidate> deserializer, GatherSettings settings, Map<String, String> modelByTopic) {
        this.deserializer = deserializer;
        this.settings = settings;
        this.modelByTopic = Map.copyOf(modelByTopic);
    }

    /**
     * Reads a candidate produced to {@code topic}, its texts cut. A record at fault throws an
     * {@link InvalidCandidateException}; a registry that cannot answer now, its own exception (the task
     * fails and the record is read again).
     */
    RetrievalCandidate read(String topic, Headers headers, byte[] bytes) {
        return Candidates.cap(Candidates.validate(Candidates.decode(deserializer, topic, headers, bytes), settings.limits()),
                settings.maxPassageChars());
    }

    /** A copy of {@code candidate} with the default model of its topic (models.default.by.topic) when it names none. */
    RetrievalCandidate withTopicModel(String topic, RetrievalCandidate candidate) {
        if (candidate.getModel() != null || !modelByTopic.containsKey(topic)) {
            return candidate;
        }
        return RetrievalCandidate.newBuilder(candidate).setModel(modelByTopic.get(topic)).build();
    }

    /** Read from the repartition topic: the intake's copy when there is one, else (an earlier version's intake) the producer's bytes. */
    RetrievalCandidate readRepartitioned(String sourceTopic, Headers headers, byte[] decodedHeader, byte[] value) {
        return decodedHeader != null ? decodeInternal(decodedHeader) : withTopicModel(sourceTopic, read(sourceTopic, headers, value));
    }

    static byte[] encode(RetrievalCandidate candidate) {
        return INTERNAL.serialize(HEADER_DECODED, candidate);
    }

    static RetrievalCandidate decodeInternal(byte[] bytes) {
        return INTERNAL.deserialize(HEADER_DECODED, bytes);
    }
}
