package dev.kafkareranker.app;

import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Checks of the gathering settings that need more than one key's validator, made before anything starts. */
final class StartupChecks {

    private static final Logger LOG = LoggerFactory.getLogger(StartupChecks.class);

    private StartupChecks() {
    }

    /**
     * Settings of earlier versions that no longer have an effect are accepted, so that a user's file keeps
     * working, with one WARN each saying so.
     */
    static void warnIgnoredSettings(RerankerConfig config) {
        if (config.originals().containsKey(RerankerConfig.GATHER_SCORING_OVERLAP)) {
            LOG.warn("{}={} no longer has an effect: a stream thread always hands a ready query to its model and goes on gathering,"
                    + " on every device; remove it from the configuration", RerankerConfig.GATHER_SCORING_OVERLAP,
                    config.getString(RerankerConfig.GATHER_SCORING_OVERLAP));
        }
        if (config.originals().containsKey(RerankerConfig.GATHER_INPUT_COPARTITIONED)) {
            LOG.warn("{}={} no longer has an effect: each record keyed by its query_id that sits on the partition Java's partitioner"
                    + " picks for that key skips the repartition topic, checked record by record; remove it from the configuration",
                    RerankerConfig.GATHER_INPUT_COPARTITIONED, config.getBoolean(RerankerConfig.GATHER_INPUT_COPARTITIONED));
        }
    }

    /** models.default.by.topic may name only served models: a candidate routed to another would fail at every record. */
    static void defaultModelsServed(RerankerConfig config) {
        if (config.defaultModelByTopic().isEmpty()) {
            return;  // nothing to check, and the model directories are not read again
        }
        List<ModelRegistry.Served> served = config.servedModels();
        Set<String> names = served.stream().map(ModelRegistry.Served::name).collect(Collectors.toCollection(java.util.TreeSet::new));
        for (Map.Entry<String, String> e : config.defaultModelByTopic().entrySet()) {
            if (!names.contains(e.getValue())) {
                throw new ConfigException(RerankerConfig.MODELS_DEFAULT_BY_TOPIC, e.getKey() + ":" + e.getValue(),
                        "model '" + e.getValue() + "' is not served (served: " + names + "); name one of them, or add it to models");
            }
        }
    }
}
