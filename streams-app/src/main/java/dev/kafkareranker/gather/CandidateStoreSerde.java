package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.StoredCandidate;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The encoding of the candidate store and its changelog: {@link StoredCandidate} in Avro's single-object
 * encoding ({@link StoreSerde}), registry-free.
 *
 * <p>Upgrade: earlier versions stored a bare {@link RetrievalCandidate}, in the single-object encoding
 * (its own fingerprint) or, before that, in Confluent's wire format (read through {@code legacy}, the only
 * read that reaches the registry). Such entries, restored from a changelog written before the upgrade,
 * are still read, as stored candidates without their record as produced ({@code source} null): the
 * dead letter of such a candidate, should its query's scoring fail, is re-encoded with this app's schema
 * and keyed by its query_id, as before, and says so ({@link DeadLetters#reencoded}). Only queries
 * gathering across the upgrade hold such entries; every entry is deleted when its query is emitted.
 */
final class CandidateStoreSerde implements Serde<StoredCandidate>, Serializer<StoredCandidate>, Deserializer<StoredCandidate> {

    private final StoreSerde<StoredCandidate> current = new StoreSerde<>(StoredCandidate.class, null);
    private final StoreSerde<RetrievalCandidate> earlier;

    /** @param legacy reads entries in Confluent's wire format, stored by the oldest versions; null: none are expected */
    CandidateStoreSerde(Deserializer<RetrievalCandidate> legacy) {
        this.earlier = new StoreSerde<>(RetrievalCandidate.class, legacy);
    }

    @Override
    public byte[] serialize(String topic, StoredCandidate data) {
        return current.serialize(topic, data);
    }

    @Override
    public StoredCandidate deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        if (current.writes(bytes)) {
            return current.deserialize(topic, bytes);
        }
        RetrievalCandidate stored;
        try {
            stored = earlier.deserialize(topic, bytes);
        } catch (SerializationException e) {
            if (Failures.registryUnavailable(e)) {
                throw e;
            }
            throw new SerializationException("Record of candidate store " + topic + " is neither a StoredCandidate nor, stored by an"
                    + " earlier version, a RetrievalCandidate: " + e.getMessage(), e);
        }
        return new StoredCandidate(stored, null);
    }

    @Override
    public Serializer<StoredCandidate> serializer() {
        return this;
    }

    @Override
    public Deserializer<StoredCandidate> deserializer() {
        return this;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        // Self-contained, as StoreSerde: the legacy reader is configured by whoever made it.
    }

    @Override
    public void close() {
    }
}
