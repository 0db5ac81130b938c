package dev.kafkareranker.serde;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Confluent's wire format: a magic byte 0, the writer schema's registry id as a 4-byte big-endian
 * int, then the Avro binary encoding of the value.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** Returns the schema id in {@code bytes}, after checking that they can hold this format at all. */
    public static int schemaId(String topic, byte[] bytes) {
        if (bytes.length < HEADER_SIZE) {
            throw new SerializationException("Record on topic " + topic + " has " + bytes.length
                    + " bytes; the Confluent wire format needs at least " + HEADER_SIZE
                    + " (magic byte 0 and a 4-byte schema id)");
        }
        if (bytes[0] != MAGIC_BYTE) {
            throw new SerializationException(String.format(
                    "Record on topic %s starts with magic byte 0x%02x, not 0x00: it is not in the Confluent wire format",
                    topic, bytes[0]));
        }
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    static void writeHeader(ByteBuffer out, int schemaId) {
        out.put(MAGIC_BYTE).putInt(schemaId);
    }
}
