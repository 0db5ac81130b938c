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
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent's wire format: the writer's schema comes from the registry by id, the reader's is the
 * declared generated class's ({@code specific.avro.value.type} / {@code specific.avro.key.type}, or the
 * class given to {@link SpecificAvroSerde#SpecificAvroSerde(Class)}), else, with
 * {@code specific.avro.reader=true}, the generated class named like the writer's schema, else the writer's
 * own (generic records). Written for the reason given on {@link AvroSerializer}.
 *
 * <p>What it refuses, each as a {@link SerializationException} that names the topic, the schema id and what
 * was wrong, so the dead-letter record says why:
 * <ul>
 *   <li>an id the registry does not know (permanent), or one that names a JSON Schema or Protobuf schema
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
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

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
    }

    @Override
    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        int id = WireFormat.schemaId(topic, bytes);
        DatumReader<T> reader = readers.get(id);
        if (reader == null) {
            reader = readerFor(topic, id);
            readers.putIfAbsent(id, reader);
        }
        BoundedDecoder decoder = new BoundedDecoder(bytes, WireFormat.HEADER_SIZE, bytes.length - WireFormat.HEADER_SIZE);
        T value;
        try {
            value = reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            // RuntimeException, not a list of Avro's: a corrupt length, for one, surfaces as UnsupportedOperationException.
            throw new SerializationException("Record on topic " + topic + " with schema id " + id
                    + " is not valid Avro for that schema: " + e, e);
        }
        int trailing = decoder.remaining();
        if (trailing > 0) {
            // A producer that appends bytes is writing something other than the schema it names; reading the prefix would hide it.
            throw new SerializationException("Record on topic " + topic + " with schema id " + id + " has " + trailing
                    + " trailing bytes after its Avro value (" + (bytes.length - WireFormat.HEADER_SIZE)
                    + " bytes after the header): not a valid record of that schema");
        }
        if (declaredType != null && !declaredType.isInstance(value)) {
            // Cannot happen after the compatibility check; checked so that a surprise is a dead letter, not a ClassCastException.
            throw new SerializationException("Record on topic " + topic + " with schema id " + id + " was read as "
                    + value.getClass().getName() + ", not the expected " + declaredType.getName());
        }
        return value;
    }

    private DatumReader<T> readerFor(String topic, int id) {
        Schema writer;
        try {
            writer = registry.byId(id);
        } catch (SchemaRegistryException e) {
            if (e.isTransient()) {
                throw new SerializationException("Record on topic " + topic + ": the Schema Registry failed transiently"
                        + " while fetching schema id " + id + " (the record is not at fault; retry later): " + e.getMessage(), e);
            }
            String what = e.errorCode() == 40403 ? "Unknown schema id " + id : "The Schema Registry refused schema id " + id;
            throw new SerializationException(what + " (record on topic " + topic + "): " + e.getMessage(), e);
        } catch (SerializationException e) {
            // The registry answered, but not with an Avro schema (a JSON Schema or Protobuf id, for one).
            throw new SerializationException("Record on topic " + topic + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new SerializationException("Record on topic " + topic + ": schema id " + id
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
            throw new SerializationException("Record on topic " + topic + ": writer schema id " + id + " ("
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
    private static Class<?> generatedClass(Schema writer, int id) {
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
                    + writer.getFullName() + " is on the classpath (schema id " + id + ")");
        }
        return type;
    }
}
