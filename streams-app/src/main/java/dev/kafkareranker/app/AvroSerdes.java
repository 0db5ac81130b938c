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

/** Creates the value serdes from {@code value.serde.class}, configured with the whole config. */
final class AvroSerdes {

    /** Confluent's key for the class values are read as, which this project's serde reads too. */
    private static final String SPECIFIC_AVRO_VALUE_TYPE = "specific.avro.value.type";

    private AvroSerdes() {
    }

    static RerankTopology.Serdes3 create(RerankerConfig config) {
        Class<?> type = config.getClass(RerankerConfig.VALUE_SERDE_CLASS);
        Map<String, Object> serdeConfig = config.serdeConfig();
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
        Serde<T> serde = (Serde<T>) Utils.newInstance(type);
        serde.configure(config, false);
        return serde;
    }
}
