package dev.kafkareranker.app;

import java.util.List;
import org.apache.kafka.common.config.ConfigDef;

/**
 * The configuration reference, generated from {@link RerankerConfig#DEFINITION} so that it cannot
 * drift from the code ({@code reranker config-docs > docs/configuration.md}; a test compares them).
 */
final class ConfigDocs {

    /** The minimal file run accepts as it is (ConfigDocsTest loads it). */
    static final String MINIMAL_EXAMPLE = """
            bootstrap.servers=localhost:9092
            schema.registry.url=http://localhost:8081
            """;

    /** A production start: the same two keys, the settings a cluster usually asks for, and the app's name and state. */
    static final String PRODUCTION_EXAMPLE = """
            bootstrap.servers=kafka-1.example.com:9093,kafka-2.example.com:9093
            schema.registry.url=https://registry.example.com
            security.protocol=SASL_SSL
            sasl.mechanism=PLAIN
            sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="reranker" password="change-me";
            application.id=reranker-search
            state.dir=/var/lib/reranker
            model.dir=/models/my-cross-encoder
            """;

    private static final String REQUIRED = "## Required\n\n"
            + "`run` ends with one line naming what is missing (and `--config`) before it loads a model:\n\n"
            + "| key | meaning |\n|---|---|\n"
            + "| `bootstrap.servers` | The Kafka brokers, `host:port[,host:port...]`. `run` waits `startup.broker.timeout.ms` for one to"
            + " answer, then ends with one line naming them. |\n"
            + "| `schema.registry.url` | A Schema Registry with Confluent's REST API that the producers and consumers share (Confluent's,"
            + " Apicurio's `/apis/ccompat/v7`, Karapace; for development, the one `bin/reranker broker` serves). `mock://` is refused by"
            + " `run`: it lives in one process only. |\n\n"
            + "Worth setting too: `application.id` (default `kafka-reranker`: the consumer group, the prefix of the internal topics and of"
            + " the transactional ids, so one per pipeline), `state.dir` (Kafka Streams' default is under the OS temp directory: use a"
            + " volume that survives restarts), and the topics (`topic.candidates`, `topic.results`, `topic.dead.letters`), which must"
            + " exist unless `topics.create=true`.\n\n"
            + "A minimal file, which `run --config FILE` accepts as it is:\n\n```properties\n" + MINIMAL_EXAMPLE + "```\n\n"
            + "A production start (security keys pass through to Kafka's clients; `RERANKER_SASL_JAAS_CONFIG` can carry the secret instead"
            + " of the file):\n\n```properties\n" + PRODUCTION_EXAMPLE + "```\n\n";

    private ConfigDocs() {
    }

    static String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference\n\n")
                .append("Generated from `RerankerConfig` by `bin/reranker config-docs`; do not edit by hand.\n\n")
                .append("Settings come from the file given to `run --config FILE`; an environment variable `RERANKER_KEY_NAME` ")
                .append("overrides `key.name`. Every key not listed here must be a Kafka Streams, Kafka client or Schema Registry ")
                .append("serde key (it is passed through unchanged); any other key is refused at start with the closest known key.\n\n")
                .append(REQUIRED)
                .append("## Every setting of the reranker\n\n")
                .append("Per served model (see `models`), the keys of the table at the end, as `model.NAME.KEY`.\n\n");
        table(out, RerankerConfig.DEFINITION, "");
        out.append("\n## Per model\n\nEach model named in `models` takes these keys under `model.NAME.` (for example `model.legal.dir`).")
                .append(" The single `model.dir` model takes the length and long-document keys (`max.length` to `truncation.side`) beside it,")
                .append(" as `model.KEY` (for example `model.long.documents=chunk`); README, Long documents, says how they work.\n\n");
        table(out, ModelSettings.DEFINITION, "model.NAME.");
        return out.toString();
    }

    private static void table(StringBuilder out, ConfigDef definition, String prefix) {
        out.append("| key | type | default | allowed | importance | meaning |\n")
                .append("|---|---|---|---|---|---|\n");
        for (ConfigDef.ConfigKey key : definition.configKeys().values()) {
            out.append("| `").append(prefix).append(key.name).append("` | ")
                    .append(key.type.name().toLowerCase()).append(" | ")
                    .append(defaultOf(key)).append(" | ")
                    .append(key.validator == null ? "" : escape(key.validator.toString())).append(" | ")
                    .append(key.importance.name().toLowerCase()).append(" | ")
                    .append(escape(key.documentation)).append(" |\n");
        }
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
