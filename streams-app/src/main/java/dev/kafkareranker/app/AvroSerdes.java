package dev.kafkareranker.app;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.gather.RerankTopology;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the value serdes from {@code value.serde.class}, configured with the whole config. */
final class AvroSerdes {

    private static final Logger LOG = LoggerFactory.getLogger(AvroSerdes.class);
    /** Confluent's key for the class values are read as, which this project's serde reads too. */
    private static final String SPECIFIC_AVRO_VALUE_TYPE = "specific.avro.value.type";
    /** Confluent's key (8.0 on) for where a value's schema id is written, which this project's serde reads too. */
    private static final String VALUE_SCHEMA_ID_SERIALIZER = "value.schema.id.serializer";
    private static final String PREFIX_SCHEMA_ID_SERIALIZER = "io.confluent.kafka.serializers.schema.id.PrefixSchemaIdSerializer";

    private AvroSerdes() {
    }

    static RerankTopology.Serdes3 create(RerankerConfig config) {
        Class<?> type = config.getClass(RerankerConfig.VALUE_SERDE_CLASS);
        Map<String, Object> serdeConfig = config.serdeConfig();
        Object asked = serdeConfig.get(VALUE_SCHEMA_ID_SERIALIZER);
        if (asked != null && !String.valueOf(asked).trim().endsWith("PrefixSchemaIdSerializer")) {
            LOG.warn("{}={} is not used for the records the app encodes (results, re-encoded dead letters): they carry the schema id in their"
                    + " payload prefix (readers with Confluent's default DualSchemaIdDeserializer read either form). Header ids"
                    + " on the candidates topic are read as they are.", VALUE_SCHEMA_ID_SERIALIZER, asked);
        }
        return new RerankTopology.Serdes3(one(type, serdeConfig, RetrievalCandidate.class),
                one(type, serdeConfig, RankedResults.class), one(type, serdeConfig, QueryState.class));
    }

    /**
     * Each serde reads its values as the class its topic or store carries, whatever class a record's writer
     * schema names: otherwise a {@code RankedResults} produced to the candidates topic would be read as one
     * and fail later with a ClassCastException instead of becoming a dead letter.
     */
    @SuppressWarnings("unchecked")
    static <T extends SpecificRecord> Serde<T> one(Class<?> type, Map<String, Object> serdeConfig, Class<T> valueType) {
        Map<String, Object> config = new HashMap<>(serdeConfig);
        config.put(SPECIFIC_AVRO_VALUE_TYPE, valueType.getName());
        // The app writes its records (results, dead letters, re-encoded candidates) with serialize(topic, value),
        // measuring the bytes before it forwards them: there are no headers to put a schema id in, and a
        // header-id serializer (Confluent's or this project's) would fail every one. It reads header ids regardless.
        config.put(VALUE_SCHEMA_ID_SERIALIZER, PREFIX_SCHEMA_ID_SERIALIZER);
        Serde<T> serde = (Serde<T>) Utils.newInstance(type);
        serde.configure(config, false);
        return serde;
    }
}
