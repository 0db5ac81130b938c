package dev.kafkareranker.serde;

import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A {@link Serde} for generated Avro classes in Confluent's wire format, the counterpart of
 * {@code io.confluent.kafka.streams.serdes.avro.SpecificAvroSerde}: same keys, same bytes, and, like it,
 * always a specific reader. Written here because Confluent's artifacts are not on Maven Central.
 *
 * <p>Give it the class it serves ({@link #SpecificAvroSerde(Class)}, or {@code specific.avro.value.type}):
 * then every record is read as that class, and one written with another schema (say, a
 * {@code RankedResults} on the candidates topic) is a {@link org.apache.kafka.common.errors.SerializationException}
 * that names both schemas. Without it the reader class is chosen by the writer schema's name, which lets a
 * producer pick any generated class on the classpath.
 */
public class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final AvroSerializer<T> serializer;
    private final AvroDeserializer<T> deserializer;
    private final Class<T> type;

    /** The reader class comes from {@code specific.avro.value.type} (or {@code .key.type}), else from the writer. */
    public SpecificAvroSerde() {
        this(null);
    }

    /** Reads every record as {@code type}, whatever class the writer's schema names. */
    public SpecificAvroSerde(Class<T> type) {
        this.serializer = new AvroSerializer<>();
        this.deserializer = new AvroDeserializer<>();
        this.type = type;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Map<String, Object> specific = new HashMap<>(configs);
        specific.put(SerdeConfig.SPECIFIC_AVRO_READER, true);
        if (type != null) {
            specific.put(isKey ? SerdeConfig.SPECIFIC_AVRO_KEY_TYPE : SerdeConfig.SPECIFIC_AVRO_VALUE_TYPE, type);
        }
        serializer.configure(specific, isKey);
        deserializer.configure(specific, isKey);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }
}
