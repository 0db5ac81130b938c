package dev.kafkareranker.gather;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The encoding of the gathering stores, their changelogs and the repartition topic: Avro's single-object
 * encoding (marker {@code C3 01}, the schema's 8-byte CRC-64 fingerprint, then the binary record), which
 * needs no Schema Registry. Internal data must not depend on the registry: a registry outage would
 * otherwise fail a store write in the middle of a query's changes, and a restore after a restart would
 * wait for the registry.
 *
 * <p>Records written by earlier versions of this app, in Confluent's wire format (magic byte 0 and a
 * registry id), are still read, through {@code legacy}: a changelog or repartition topic need not be
 * emptied for the upgrade. They are the only reads that reach the registry.
 *
 * <p>When an internal schema changes, the decoder reads only records of the current schema's
 * fingerprint; add the previous schema with {@code addSchema} (BinaryMessageDecoder) at that change.
 * When a store's type itself changes (the candidate store's RetrievalCandidate became StoredCandidate),
 * a serde for the new type tells the records of the old one by {@link #writes} and converts them
 * ({@link CandidateStoreSerde}).
 */
public final class StoreSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = 0x01;
    private static final byte CONFLUENT_MAGIC = 0;

    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final Deserializer<T> legacy;
    /** The single-object header of this schema's records: marker and fingerprint. */
    private final byte[] header;

    /** @param legacy reads records in Confluent's wire format, written before this encoding; null: none are expected */
    public StoreSerde(Class<T> type, Deserializer<T> legacy) {
        SpecificData model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        this.legacy = legacy;
        // As BinaryMessageEncoder writes it: the marker, then the CRC-64-AVRO fingerprint, little-endian.
        this.header = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN).put(MARKER_0).put(MARKER_1)
                .putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
    }

    /** Whether {@code bytes} are a record this serde writes: single-object encoded with this type's schema. */
    public boolean writes(byte[] bytes) {
        return bytes != null && bytes.length >= header.length && Arrays.equals(bytes, 0, header.length, header, 0, header.length);
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer buffer = encoder.encode(data);
            byte[] out = new byte[buffer.remaining()];
            buffer.get(out);
            return out;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot encode " + schema.getFullName() + " for internal topic or store " + topic + ": " + e, e);
        }
    }

    @Override
    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        if (bytes.length >= 2 && bytes[0] == MARKER_0 && bytes[1] == MARKER_1) {
            try {
                return decoder.decode(bytes);
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("Record of internal topic or store " + topic + " is not a valid " + schema.getFullName()
                        + " in Avro's single-object encoding: " + e, e);
            }
        }
        if (bytes.length > 0 && bytes[0] == CONFLUENT_MAGIC && legacy != null) {
            return legacy.deserialize(topic, bytes);
        }
        throw new SerializationException(String.format("Record of internal topic or store %s starts with 0x%02x: neither Avro's"
                + " single-object encoding (C3 01) nor, from earlier versions, Confluent's wire format (00)", topic, bytes.length == 0 ? 0 : bytes[0]));
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {
        // Self-contained: nothing to configure. The legacy reader is configured by whoever made it.
    }

    @Override
    public void close() {
    }
}
