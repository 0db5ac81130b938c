package dev.kafkareranker.serde;

import java.nio.ByteBuffer;
import java.util.UUID;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Confluent's wire format and where it puts the writer schema's identity:
 * <ul>
 *   <li>in the payload (prefix): magic byte 0 and the schema's registry id as a 4-byte big-endian int, or
 *       magic byte 1 and the schema's GUID as 16 bytes (its most significant 8 bytes first, each half big-endian,
 *       as {@code java.util.UUID}'s two longs), then the Avro binary encoding of the value;</li>
 *   <li>or in a record header (Confluent 8.0's {@code HeaderSchemaIdSerializer}): {@code __value_schema_id} (or
 *       {@code __key_schema_id} for keys) holding the same 17 bytes (magic byte 1, the GUID), and the payload
 *       is the bare Avro encoding.</li>
 * </ul>
 * Reading follows Confluent's {@code DualSchemaIdDeserializer}: the last such header, when present with a
 * value, names the schema (magic 0 or 1 alike), else the payload prefix does. Layout checked against
 * Confluent's {@code io.confluent.kafka.serializers.schema.id.SchemaId} (fromBytes, guidToBytes) and
 * confluent-kafka-python 2.16.1's {@code header_schema_id_serializer} / {@code dual_schema_id_deserializer}.
 * Avro has no message indexes (those follow the id for Protobuf only), so anything after the 5 or 17 bytes
 * of a header is refused.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    /** Magic byte of a GUID. */
    public static final byte MAGIC_BYTE_GUID = 1;
    /** Magic byte and id: the prefix a payload with an integer id starts with. */
    public static final int HEADER_SIZE = 5;
    /** Magic byte and GUID. */
    public static final int GUID_HEADER_SIZE = 17;
    public static final String KEY_SCHEMA_ID_HEADER = "__key_schema_id";
    public static final String VALUE_SCHEMA_ID_HEADER = "__value_schema_id";

    private WireFormat() {
    }

    /** A record's writer schema and where its Avro encoding starts in the payload. */
    public record Located(SchemaId schemaId, int offset, boolean fromHeader) {}

    /** Returns the integer schema id in {@code bytes}' prefix, after checking that they can hold this format at all. */
    public static int schemaId(String topic, byte[] bytes) {
        SchemaId id = locate(topic, bytes).schemaId();
        if (id.isGuid()) {
            throw new SerializationException("Record on topic " + topic + " names its schema by GUID (" + id.guid()
                    + "), not by an integer id");
        }
        return id.id();
    }

    /** The schema named by {@code bytes}' prefix: magic byte 0 and an id, or magic byte 1 and a GUID. */
    public static Located locate(String topic, byte[] bytes) {
        if (bytes.length < HEADER_SIZE) {
            throw new SerializationException("Record on topic " + topic + " has " + bytes.length
                    + " bytes; the Confluent wire format needs at least " + HEADER_SIZE
                    + " (magic byte 0 and a 4-byte schema id)");
        }
        if (bytes[0] == MAGIC_BYTE) {
            return new Located(SchemaId.ofId(ByteBuffer.wrap(bytes, 1, 4).getInt()), HEADER_SIZE, false);
        }
        if (bytes[0] == MAGIC_BYTE_GUID) {
            if (bytes.length < GUID_HEADER_SIZE) {
                throw new SerializationException("Record on topic " + topic + " starts with magic byte 0x01 (a schema GUID)"
                        + " but has " + bytes.length + " bytes; a GUID prefix needs " + GUID_HEADER_SIZE);
            }
            return new Located(SchemaId.ofGuid(guid(bytes, 1)), GUID_HEADER_SIZE, false);
        }
        throw new SerializationException(String.format(
                "Record on topic %s starts with magic byte 0x%02x, not 0x00 (schema id) or 0x01 (schema GUID): it is not in"
                        + " the Confluent wire format", topic, bytes[0]));
    }

    /**
     * The schema named by the record's {@code __value_schema_id} (or {@code __key_schema_id}) header when it has
     * one with a value, else by its payload prefix, as Confluent's {@code DualSchemaIdDeserializer} reads.
     */
    public static Located locate(String topic, boolean isKey, Headers headers, byte[] bytes) {
        String name = isKey ? KEY_SCHEMA_ID_HEADER : VALUE_SCHEMA_ID_HEADER;
        Header header = headers == null ? null : headers.lastHeader(name);
        if (header == null || header.value() == null) {
            return locate(topic, bytes);
        }
        byte[] value = header.value();
        if (value.length == HEADER_SIZE && value[0] == MAGIC_BYTE) {
            return new Located(SchemaId.ofId(ByteBuffer.wrap(value, 1, 4).getInt()), 0, true);
        }
        if (value.length == GUID_HEADER_SIZE && value[0] == MAGIC_BYTE_GUID) {
            return new Located(SchemaId.ofGuid(guid(value, 1)), 0, true);
        }
        throw new SerializationException(String.format("Record on topic %s has a %s header of %d bytes starting with 0x%02x;"
                        + " expected %d bytes (magic byte 0x01 and a 16-byte schema GUID) or %d (magic byte 0x00 and a 4-byte"
                        + " schema id), as Confluent's HeaderSchemaIdSerializer writes",
                topic, name, value.length, value.length == 0 ? 0 : value[0], GUID_HEADER_SIZE, HEADER_SIZE));
    }

    /** The 17 bytes of a GUID header (or prefix): magic byte 1, then the GUID's two longs, big-endian. */
    public static byte[] guidBytes(UUID guid) {
        return ByteBuffer.allocate(GUID_HEADER_SIZE).put(MAGIC_BYTE_GUID)
                .putLong(guid.getMostSignificantBits()).putLong(guid.getLeastSignificantBits()).array();
    }

    private static UUID guid(byte[] bytes, int at) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes, at, 16);
        return new UUID(buffer.getLong(), buffer.getLong());
    }

    static void writeHeader(ByteBuffer out, int schemaId) {
        out.put(MAGIC_BYTE).putInt(schemaId);
    }
}
