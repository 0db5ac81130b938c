package dev.kafkareranker.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records in Confluent's wire format, registering or looking up the schema as
 * {@code auto.register.schemas} and {@code use.latest.version} say.
 *
 * <p>Confluent's own serializer ({@code io.confluent.kafka.serializers.KafkaAvroSerializer}) is not on
 * Maven Central and cannot be fetched here, which is why this one exists. It reads the same config
 * keys and writes the same bytes, so either can replace the other by configuration alone.
 */
public class AvroSerializer<T extends IndexedRecord> implements Serializer<T> {

    private SchemaRegistryClient registry;
    private SerdeConfig config;
    private SubjectNameStrategy strategy;
    private boolean isKey;

    public AvroSerializer() {
    }

    /** For tests and wiring code that already has a client. */
    public AvroSerializer(SchemaRegistryClient registry, Map<String, ?> configs, boolean isKey) {
        configure(configs, isKey);
        this.registry = registry;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.config = new SerdeConfig(configs);
        this.registry = config.client();
        this.strategy = config.subjectNameStrategy(isKey);
        this.isKey = isKey;
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        Schema schema = record.getSchema();
        String subject = strategy.subject(topic, isKey, schema);
        int id = schemaId(subject, schema);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            ByteBuffer header = ByteBuffer.allocate(WireFormat.HEADER_SIZE);
            WireFormat.writeHeader(header, id);
            out.write(header.array());
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writer(record, schema).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot write " + schema.getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }

    private int schemaId(String subject, Schema schema) {
        if (config.autoRegister()) {
            return registry.register(subject, schema);
        }
        if (config.useLatestVersion()) {
            SchemaRegistryClient.RegisteredSchema latest = registry.latest(subject);
            // Writing with the latest id but our own schema would make readers misread the bytes.
            if (!latest.schema().equals(schema)) {
                throw new SerializationException("use.latest.version: the latest schema of subject " + subject
                        + " (id " + latest.id() + ") differs from the record's own schema; register the record's schema"
                        + " or produce with the latest one");
            }
            return latest.id();
        }
        return registry.idOf(subject, schema);
    }

    @SuppressWarnings("unchecked")
    private DatumWriter<T> writer(T record, Schema schema) {
        return record instanceof SpecificRecord
                ? new SpecificDatumWriter<>(schema)
                : (DatumWriter<T>) new GenericDatumWriter<IndexedRecord>(schema);
    }
}
