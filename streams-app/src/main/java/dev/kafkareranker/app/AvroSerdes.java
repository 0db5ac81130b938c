package dev.kafkareranker.app;

import dev.kafkareranker.gather.RerankTopology;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Utils;

/** Creates the value serdes from {@code value.serde.class}, configured with the whole config. */
final class AvroSerdes {

    private AvroSerdes() {
    }

    static RerankTopology.Serdes3 create(RerankerConfig config) {
        Class<?> type = config.getClass(RerankerConfig.VALUE_SERDE_CLASS);
        Map<String, Object> serdeConfig = config.serdeConfig();
        return new RerankTopology.Serdes3(one(type, serdeConfig), one(type, serdeConfig), one(type, serdeConfig));
    }

    @SuppressWarnings("unchecked")
    static <T extends SpecificRecord> Serde<T> one(Class<?> type, Map<String, Object> serdeConfig) {
        Serde<T> serde = (Serde<T>) Utils.newInstance(type);
        serde.configure(serdeConfig, false);
        return serde;
    }
}
