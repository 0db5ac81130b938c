package dev.kafkareranker.app;

import java.util.List;
import org.apache.kafka.common.config.ConfigDef;

/**
 * The configuration reference, generated from {@link RerankerConfig#DEFINITION} so that it cannot
 * drift from the code ({@code reranker config-docs > docs/configuration.md}; a test compares them).
 */
final class ConfigDocs {

    private ConfigDocs() {
    }

    static String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference\n\n")
                .append("Generated from `RerankerConfig` by `bin/reranker config-docs`; do not edit by hand.\n\n")
                .append("Settings come from the file given to `run --config FILE`; an environment variable `RERANKER_KEY_NAME` ")
                .append("overrides `key.name`. Every key not listed here must be a Kafka Streams, Kafka client or Schema Registry ")
                .append("serde key (it is passed through unchanged); any other key is refused at start with the closest known key.\n\n")
                .append("Per served model (see `models`): `model.NAME.dir` (required), `model.NAME.device`, `model.NAME.variant`.\n\n")
                .append("| key | type | default | allowed | importance | meaning |\n")
                .append("|---|---|---|---|---|---|\n");
        List<ConfigDef.ConfigKey> keys = RerankerConfig.DEFINITION.configKeys().values().stream().toList();
        for (ConfigDef.ConfigKey key : keys) {
            out.append("| `").append(key.name).append("` | ")
                    .append(key.type.name().toLowerCase()).append(" | ")
                    .append(defaultOf(key)).append(" | ")
                    .append(key.validator == null ? "" : escape(key.validator.toString())).append(" | ")
                    .append(key.importance.name().toLowerCase()).append(" | ")
                    .append(escape(key.documentation)).append(" |\n");
        }
        return out.toString();
    }

    private static String defaultOf(ConfigDef.ConfigKey key) {
        if (!key.hasDefault()) {
            return "(required)";
        }
        Object value = key.defaultValue;
        if (value == null || value.toString().isEmpty() || (value instanceof List<?> list && list.isEmpty())) {
            return "(empty)";
        }
        String text = value instanceof Class<?> type ? type.getName() : value instanceof List<?> list ? String.join(",", list.stream().map(Object::toString).toList()) : value.toString();
        return "`" + text + "`";
    }

    private static String escape(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }
}
