package dev.kafkareranker.serde;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.DatumReader;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent's wire format: the writer's schema comes from the registry by id or GUID, the reader's is the
 * declared generated class's ({@code specific.avro.value.type} / {@code specific.avro.key.type}, or the
 * class given to {@link SpecificAvroSerde#SpecificAvroSerde(Class)}), else, with
 * {@code specific.avro.reader=true}, the generated class named like the writer's schema, else the writer's
 * own (generic records). Written for the reason given on {@link AvroSerializer}.
 *
 * <p>Where the writer's schema id is read ({@link WireFormat}): with {@link #deserialize(String, Headers, byte[])}
 * and {@code value.schema.id.deserializer=DualSchemaIdDeserializer} (the default, as Confluent's), from the record's
 * {@code __value_schema_id} header ({@code __key_schema_id} for keys) when it has one, else from the payload
 * prefix; a GUID is resolved through {@code GET /schemas/guids/{guid}} and cached like an id. Without headers
 * ({@link #deserialize(String, byte[])}), or with {@code PrefixSchemaIdDeserializer}, from the prefix only.
 *
 * <p>What it refuses, each as a {@link SerializationException} that names the topic, the schema id and what
 * was wrong, so the dead-letter record says why:
 * <ul>
 *   <li>an id or GUID the registry does not know (permanent), a schema id header that is not 17 bytes of
 *       magic byte 1 and a GUID (or 5 of magic byte 0 and an id), or an id that names a JSON Schema or Protobuf schema
 *       ("schema id N is a JSON schema, not Avro"; permanent);</li>
 *   <li>a writer schema that cannot be resolved to the reader's (Avro's own incompatibility message, with
 *       both schemas named): with a declared type, a record written as another class on the classpath
 *       ({@code RankedResults} on the candidates topic) ends here, never as a ClassCastException later;</li>
 *   <li>bytes that are not valid Avro for the writer's schema, strings that are not valid UTF-8 (Avro alone
 *       would replace bad bytes), lengths or counts larger than the record ({@link BoundedDecoder}: nothing
 *       is allocated beyond the record's own size), and trailing bytes after the value.</li>
 * </ul>
 *
 * <p>A registry that failed transiently (unreachable, 429, 5xx, after the client's retries) is not the
 * record's fault: the exception thrown then is a {@link SerializationException} whose cause is the
 * {@link SchemaRegistryException}, with {@link SchemaRegistryException#isTransient()} true, and
 * {@link SchemaRegistryException#isTransientFailure(Throwable)} on the thrown exception says so. Callers
 * should fail and retry the work then, not dead-letter the record.
 */
public class AvroDeserializer<T> implements Deserializer<T> {

    private SchemaRegistryClient registry;
    private boolean specific;
    private Class<? extends SpecificRecord> declaredType;
    private boolean isKey;
    private boolean dual = true;
    private final Map<SchemaId, DatumReader<T>> readers = new ConcurrentHashMap<>();

    public AvroDeserializer() {
    }

    /** For tests and wiring code that already has a client. */
    public AvroDeserializer(SchemaRegistryClient registry, Map<String, ?> configs) {
        configure(configs, false);
        this.registry = registry;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        SerdeConfig config = new SerdeConfig(configs);
        this.registry = config.client();
        this.declaredType = config.specificType(isKey);
        // A declared type is only of use to a specific reader, so it makes one (Confluent's needs both set).
        this.specific = config.specificReader() || declaredType != null;
        this.isKey = isKey;
        this.dual = config.dualSchemaIdReader(isKey);
    }

    /** Reads the schema id from the payload prefix only: without headers there is nothing else to read. */
    @Override
    public T deserialize(String topic, byte[] bytes) {
        return bytes == null ? null : decode(topic, WireFormat.locate(topic, bytes), bytes);
    }

    /** Reads the schema id from the record's schema id header when it has one (dual reader), else from the prefix. */
    @Override
    public T deserialize(String topic, Headers headers, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        return decode(topic, dual ? WireFormat.locate(topic, isKey, headers, bytes) : WireFormat.locate(topic, bytes), bytes);
    }

    private T decode(String topic, WireFormat.Located located, byte[] bytes) {
        SchemaId id = located.schemaId();
        DatumReader<T> reader = readers.get(id);
        if (reader == null) {
            reader = readerFor(topic, located);
            readers.putIfAbsent(id, reader);
        }
        int start = located.offset();
        BoundedDecoder decoder = new BoundedDecoder(bytes, start, bytes.length - start);
        T value;
        try {
            value = reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            // RuntimeException, not a list of Avro's: a corrupt length, for one, surfaces as UnsupportedOperationException.
            throw new SerializationException("Record on topic " + topic + " with " + id
                    + " is not valid Avro for that schema: " + e, e);
        }
        int trailing = decoder.remaining();
        if (trailing > 0) {
            // A producer that appends bytes is writing something other than the schema it names; reading the prefix would hide it.
            throw new SerializationException("Record on topic " + topic + " with " + id + " has " + trailing
                    + " trailing bytes after its Avro value (" + (bytes.length - start)
                    + (start == 0 ? " bytes in all" : " bytes after the header") + "): not a valid record of that schema");
        }
        if (declaredType != null && !declaredType.isInstance(value)) {
            // Cannot happen after the compatibility check; checked so that a surprise is a dead letter, not a ClassCastException.
            throw new SerializationException("Record on topic " + topic + " with " + id + " was read as "
                    + value.getClass().getName() + ", not the expected " + declaredType.getName());
        }
        return value;
    }

    private DatumReader<T> readerFor(String topic, WireFormat.Located located) {
        SchemaId id = located.schemaId();
        String where = located.fromHeader() ? ", named by its " + (isKey ? WireFormat.KEY_SCHEMA_ID_HEADER
                : WireFormat.VALUE_SCHEMA_ID_HEADER) + " header" : "";
        Schema writer;
        try {
            writer = id.isGuid() ? registry.byGuid(id.guid()) : registry.byId(id.id());
        } catch (SchemaRegistryException e) {
            if (e.isTransient()) {
                throw new SerializationException("Record on topic " + topic + ": the Schema Registry failed transiently"
                        + " while fetching " + id + " (the record is not at fault; retry later): " + e.getMessage(), e);
            }
            String what = e.errorCode() == 40403 ? "Unknown " + id : "The Schema Registry refused " + id;
            throw new SerializationException(what + " (record on topic " + topic + where + "): " + e.getMessage(), e);
        } catch (SerializationException e) {
            // The registry answered, but not with an Avro schema (a JSON Schema or Protobuf id, for one).
            throw new SerializationException("Record on topic " + topic + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new SerializationException("Record on topic " + topic + ": " + id
                    + " is not a usable Avro schema: " + e.getMessage(), e);
        }
        if (!specific) {
            return new StrictUtf8.Generic<>(writer);
        }
        Schema readerSchema;
        String readerSource;
        if (declaredType != null) {
            readerSchema = SpecificData.get().getSchema(declaredType);
            readerSource = "the declared type " + declaredType.getName();
        } else {
            readerSchema = SpecificData.get().getSchema(generatedClass(writer, id));
            readerSource = "the generated class named like the writer's schema";
        }
        SchemaCompatibility.SchemaPairCompatibility compatibility =
                SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writer);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new SerializationException("Record on topic " + topic + ": writer " + id + " ("
                    + writer.getFullName() + ") cannot be read with reader schema " + readerSchema.getFullName()
                    + " (" + readerSource + "); Avro says: " + describe(compatibility.getResult()));
        }
        return new StrictUtf8.Specific<>(writer, readerSchema);
    }

    private static String describe(SchemaCompatibility.SchemaCompatibilityResult result) {
        return result.getIncompatibilities().stream()
                .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
                .collect(Collectors.joining("; "));
    }

    /**
     * The generated class named like {@code writer}, loaded without initializing it and accepted only if it
     * is a generated record: a writer schema may name any class on the classpath.
     */
    private static Class<?> generatedClass(Schema writer, SchemaId id) {
        Class<?> type = null;
        if (writer.getType() == Schema.Type.RECORD) {
            try {
                type = Class.forName(writer.getFullName(), false, AvroDeserializer.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                type = null;
            }
        }
        if (type == null || !SpecificRecord.class.isAssignableFrom(type)) {
            throw new SerializationException("specific.avro.reader=true but no generated class "
                    + writer.getFullName() + " is on the classpath (" + id + ")");
        }
        return type;
    }
}
