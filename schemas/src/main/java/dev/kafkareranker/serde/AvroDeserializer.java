package dev.kafkareranker.serde;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent's wire format: the writer's schema comes from the registry by id, the reader's is
 * the generated class's ({@code specific.avro.reader=true}) or the writer's own (generic records).
 * Every failure is a {@link SerializationException} that names the topic and what was wrong, so the
 * dead-letter record says why, and strings must be valid UTF-8 (Avro alone would replace bad bytes).
 * Written for the reason given on {@link AvroSerializer}.
 */
public class AvroDeserializer<T> implements Deserializer<T> {

    private SchemaRegistryClient registry;
    private boolean specific;
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
        this.specific = config.specificReader();
    }

    @Override
    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        int id = WireFormat.schemaId(topic, bytes);
        DatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, WireFormat.HEADER_SIZE,
                bytes.length - WireFormat.HEADER_SIZE, null);
        try {
            return reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            // RuntimeException, not a list of Avro's: a corrupt length, for one, surfaces as UnsupportedOperationException.
            throw new SerializationException("Record on topic " + topic + " with schema id " + id
                    + " is not valid Avro for that schema: " + e, e);
        }
    }

    private DatumReader<T> readerFor(int id) {
        Schema writer;
        try {
            writer = registry.byId(id);
        } catch (SchemaRegistryException e) {
            throw new SerializationException("Unknown schema id " + id + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // The registry answered, but with no Avro schema (a Protobuf or JSON Schema id, for one).
            throw new SerializationException("Schema id " + id + " is not a usable Avro schema: " + e.getMessage(), e);
        }
        if (!specific) {
            return new StrictUtf8.Generic<>(writer);
        }
        Class<?> type = SpecificData.get().getClass(writer);
        if (type == null) {
            throw new SerializationException("specific.avro.reader=true but no generated class "
                    + writer.getFullName() + " is on the classpath (schema id " + id + ")");
        }
        Schema readerSchema = SpecificData.get().getSchema(type);
        try {
            return new StrictUtf8.Specific<>(writer, readerSchema);
        } catch (AvroRuntimeException e) {
            throw new SerializationException("Schema id " + id + " cannot be read as " + writer.getFullName() + ": " + e.getMessage(), e);
        }
    }
}
