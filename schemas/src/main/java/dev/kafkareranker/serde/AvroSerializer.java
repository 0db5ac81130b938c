package dev.kafkareranker.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records in Confluent's wire format, registering or looking up the schema as
 * {@code auto.register.schemas}, {@code use.schema.id} and {@code use.latest.version} say (in that order, as
 * Confluent's serializer).
 *
 * <p>Confluent's own serializer ({@code io.confluent.kafka.serializers.KafkaAvroSerializer}) is not on
 * Maven Central and cannot be fetched here, which is why this one exists. It reads the same config
 * keys and writes the same bytes, so either can replace the other by configuration alone.
 *
 * <p>The schema registered (or looked up) is the contract as written in its {@code .avsc}: the generated
 * classes' {@code SCHEMA$} carries {@code "avro.java.string":"String"} on every string (the avro-maven-plugin
 * adds it for {@code <stringType>String</stringType>}), a Java-only reading hint that would make the
 * registry see another schema than the one other producers (Confluent's Python client, for one) register
 * from the same file: another id, and a lookup of the plain {@code .avsc} that misses with 40403. So those
 * properties are removed before the registry sees the schema ({@link #asWritten}), as Confluent's
 * {@code avro.remove.java.properties=true} does; the bytes are the same either way, and the reader side
 * takes its Java string type from the generated class, not from the registry. This serde always does it
 * (a registry holding the Java properties would split ids between languages, which no deployment wants).
 *
 * <p>Where the schema id goes ({@code value.schema.id.serializer}, {@code key.schema.id.serializer}, Confluent
 * 8.0's keys and class names): {@code PrefixSchemaIdSerializer} (the default) writes magic byte 0 and the id
 * before the Avro bytes; {@code HeaderSchemaIdSerializer} writes the bare Avro bytes and the schema's GUID in
 * the {@code __value_schema_id} ({@code __key_schema_id}) header, which needs {@link #serialize(String, Headers,
 * IndexedRecord)} and a registry that gives GUIDs ({@link WireFormat}). Writing a prefix into a record that
 * already carries a schema id header (a record passed on from a header-id producer) removes that header:
 * Confluent's dual reader would otherwise take the stale header over the prefix and misread the bytes.
 */
public class AvroSerializer<T extends IndexedRecord> implements Serializer<T> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JAVA_STRING = "avro.java.string";
    /** Generated classes hand out one SCHEMA$ each, so this holds a handful of entries. */
    private static final Map<Schema, Schema> AS_WRITTEN = new ConcurrentHashMap<>();

    private SchemaRegistryClient registry;
    private SerdeConfig config;
    private SubjectNameStrategy strategy;
    private boolean isKey;
    private boolean headerId;

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
        this.headerId = config.headerSchemaId(isKey);
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (headerId && record != null) {
            throw new SerializationException((isKey ? SerdeConfig.KEY_SCHEMA_ID_SERIALIZER : SerdeConfig.VALUE_SCHEMA_ID_SERIALIZER)
                    + "=HeaderSchemaIdSerializer puts the schema id in a record header, but this call (topic " + topic
                    + ") has no headers to write it to; pass them (serialize(topic, headers, record)) or use PrefixSchemaIdSerializer");
        }
        return write(topic, record, null);
    }

    @Override
    public byte[] serialize(String topic, Headers headers, T record) {
        if (record == null) {
            return null;
        }
        if (headerId && headers == null) {
            return serialize(topic, record);
        }
        return write(topic, record, headers);
    }

    private byte[] write(String topic, T record, Headers headers) {
        if (record == null) {
            return null;
        }
        Schema schema = record.getSchema();
        String subject = strategy.subject(topic, isKey, schema);
        int id = schemaId(subject, asWritten(schema));
        String headerName = isKey ? WireFormat.KEY_SCHEMA_ID_HEADER : WireFormat.VALUE_SCHEMA_ID_HEADER;
        byte[] guidHeader = headerId ? WireFormat.guidBytes(registry.guidOf(id)) : null;
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            if (headers != null) {
                headers.remove(headerName);
            }
            if (guidHeader != null) {
                headers.add(headerName, guidHeader);
            } else {
                ByteBuffer header = ByteBuffer.allocate(WireFormat.HEADER_SIZE);
                WireFormat.writeHeader(header, id);
                out.write(header.array());
            }
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writer(record, schema).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot write " + schema.getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }

    /** {@code schema} without Avro's Java properties ({@code avro.java.string}): the contract as written. */
    static Schema asWritten(Schema schema) {
        return AS_WRITTEN.computeIfAbsent(schema, s -> {
            String text = s.toString();
            if (!text.contains(JAVA_STRING)) {
                return s;
            }
            try {
                JsonNode tree = JSON.readTree(text);
                stripJavaProperties(tree);
                return new Schema.Parser().parse(JSON.writeValueAsString(tree));
            } catch (IOException e) {
                throw new IllegalStateException("Avro wrote a schema that is not JSON: " + text, e);
            }
        });
    }

    private static void stripJavaProperties(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(JAVA_STRING);
        }
        // Field defaults are data, not schema: a default string value may legitimately contain anything.
        node.fields().forEachRemaining(entry -> {
            if (!entry.getKey().equals("default")) {
                stripJavaProperties(entry.getValue());
            }
        });
        if (node.isArray()) {
            node.forEach(AvroSerializer::stripJavaProperties);
        }
    }

    private int schemaId(String subject, Schema schema) {
        if (config.autoRegister()) {
            return registry.register(subject, schema);
        }
        int pinned = config.useSchemaId();
        if (pinned >= 0) {
            Schema registered = registry.byId(pinned);
            // As for use.latest.version: bytes labelled with an id must be written with that id's schema.
            if (!asWritten(registered).equals(schema)) {
                throw new SerializationException("use.schema.id=" + pinned + ": that id's schema (" + registered.getFullName()
                        + ") differs from the record's own schema (" + schema.getFullName() + "); set use.schema.id to the"
                        + " id of the record's schema, or -1 to look it up");
            }
            return pinned;
        }
        if (config.useLatestVersion()) {
            SchemaRegistryClient.RegisteredSchema latest = registry.latest(subject);
            // Writing with the latest id but our own schema would make readers misread the bytes.
            if (!asWritten(latest.schema()).equals(schema)) {
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
