package dev.kafkareranker.app;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serde;

/**
 * The settings of {@code produce} and {@code consume}: the same file {@code run} reads ({@code --config}), then
 * {@code RERANKER_*} variables, then {@code --bootstrap} and {@code --registry}, so that the tools speak to the
 * app's brokers, registry, topics and serde with the app's credentials.
 */
final class ClientSettings {

    private final RerankerConfig config;

    private ClientSettings(RerankerConfig config) {
        this.config = config;
    }

    /**
     * @param bootstrap {@code --bootstrap}, overriding the file and the environment
     * @param registry  {@code --registry}, likewise
     */
    static ClientSettings load(Optional<Path> configFile, Map<String, String> env, Optional<String> bootstrap, Optional<String> registry,
                               String command) {
        Map<String, String> merged = new HashMap<>(env);
        bootstrap.ifPresent(b -> merged.put(RerankerConfig.ENV_PREFIX + "BOOTSTRAP_SERVERS", b));
        registry.ifPresent(r -> merged.put(RerankerConfig.ENV_PREFIX + "SCHEMA_REGISTRY_URL", r));
        RerankerConfig config = RerankerConfig.load(configFile, merged);
        for (String key : new String[] {Preflight.BOOTSTRAP_SERVERS, Preflight.SCHEMA_REGISTRY_URL}) {
            Object value = config.originals().get(key);
            if (value == null || value.toString().isBlank()) {
                throw new IllegalArgumentException(command + " needs " + key + ": pass --config FILE (bin/reranker broker writes one), or "
                        + (key.equals(Preflight.BOOTSTRAP_SERVERS) ? "--bootstrap HOST:PORT" : "--registry URL"));
            }
        }
        String registryUrl = config.originals().get(Preflight.SCHEMA_REGISTRY_URL).toString();
        if (registryUrl.strip().startsWith("mock://")) {
            throw new IllegalArgumentException(command + ": schema.registry.url=" + registryUrl + " is an in-process registry no other"
                    + " process can read: use the registry run uses (bin/reranker broker serves one at http://localhost:8081)");
        }
        return new ClientSettings(config);
    }

    RerankerConfig config() {
        return config;
    }

    String bootstrapServers() {
        return config.originals().get(Preflight.BOOTSTRAP_SERVERS).toString();
    }

    /** A producer's settings: the file's client keys (security included) and its producer.* overrides. */
    Map<String, Object> producerProps() {
        Map<String, Object> props = clientProps(ProducerConfig.configNames(), "producer.");
        // Each candidate once, in order, acknowledged by every in-sync replica: what a retriever should do too.
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return props;
    }

    /** A consumer's settings that sees only committed records, as a downstream reader of the exactly-once app must. */
    Map<String, Object> consumerProps(String group) {
        Map<String, Object> props = clientProps(ConsumerConfig.configNames(), "consumer.");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return props;
    }

    private Map<String, Object> clientProps(Set<String> names, String prefix) {
        Map<String, Object> props = new HashMap<>();
        config.originals().forEach((key, value) -> {
            if (names.contains(key)) {
                props.put(key, value);
            }
        });
        config.originals().forEach((key, value) -> {
            if (key.startsWith(prefix) && names.contains(key.substring(prefix.length()))) {
                props.put(key.substring(prefix.length()), value);
            }
        });
        return props;
    }

    /** The configured value serde (value.serde.class) for {@code type}, with the file's registry settings. */
    <T extends SpecificRecord> Serde<T> serde(Class<T> type) {
        return AvroSerdes.one(config.getClass(RerankerConfig.VALUE_SERDE_CLASS), config.serdeConfig(), type);
    }
}
