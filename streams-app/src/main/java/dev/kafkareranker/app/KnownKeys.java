package dev.kafkareranker.app;

import dev.kafkareranker.serde.SerdeConfig;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Refuses configuration keys that nothing reads: a typo such as {@code gather.max.wiat.ms} would
 * otherwise pass through to Kafka as an unknown key and be silently ignored.
 *
 * <p>Three kinds of key need more than a list:
 * <ul>
 *   <li>{@code topic.*} is shared: the reranker's own topic names ({@code topic.candidates}...) and Kafka
 *       Streams' prefix for its internal topics' configs ({@code topic.retention.ms}). Only those two are
 *       accepted, so {@code topic.result} is refused naming the known topic keys instead of being handed to
 *       the internal topics and ignored.</li>
 *   <li>Keys of Confluent's serde that this project's serde does not implement ({@link SerdeConfig#CONFLUENT_IGNORED})
 *       are accepted, and the serde logs each as ignored.</li>
 *   <li>With another serde in {@code value.serde.class} (Confluent's), every key under the prefixes
 *       Confluent's serde reads also passes, unchecked: that serde, not this list, knows its keys.</li>
 * </ul>
 */
final class KnownKeys {

    /** Prefixes Kafka Streams itself passes on (to its clients); {@code topic.} is checked on its own. */
    private static final List<String> PASSED_ON = List.of("consumer.", "producer.", "admin.", "main.consumer.",
            "restore.consumer.", "global.consumer.", "client.tags.");

    private static final String TOPIC_PREFIX = "topic.";

    /**
     * Prefixes of the keys Confluent's serde and registry client read, accepted when {@code value.serde.class}
     * names a serde other than this project's (a newer Confluent key this project has not heard of passes).
     */
    private static final List<String> CONFLUENT_SERDE_PREFIXES = List.of("schema.registry.", "basic.auth.", "bearer.auth.",
            "avro.", "rule.", "missing.", "latest.", "specific.avro.", "use.", "dek.", "kek.", "http.", "proxy.");

    private static final String OWN_SERDE = "dev.kafkareranker.serde.SpecificAvroSerde";

    /** Kafka's topic-level config names (TopicConfig's *_CONFIG constants), the keys Kafka Streams reads as topic.NAME. */
    private static final Set<String> TOPIC_CONFIGS = topicConfigs();

    private KnownKeys() {
    }

    static void check(Map<String, ?> props, List<String> servedModels, String source) {
        Set<String> known = new HashSet<>(RerankerConfig.DEFINITION.names());
        known.addAll(StreamsConfig.configDef().names());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(ProducerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());
        known.addAll(SerdeConfig.DEFINITION.names());
        known.addAll(SerdeConfig.CONFLUENT_IGNORED);
        for (String model : servedModels) {
            known.addAll(ModelSettings.keys(model));
        }
        if (servedModels.isEmpty()) {
            known.addAll(ModelSettings.singleModelKeys());
        }
        Object serde = props.get(RerankerConfig.VALUE_SERDE_CLASS);
        String serdeName = serde instanceof Class<?> type ? type.getName() : serde == null ? OWN_SERDE : serde.toString().trim();
        boolean otherSerde = !serdeName.equals(OWN_SERDE);
        for (String key : props.keySet()) {
            if (key.startsWith(TOPIC_PREFIX) && !known.contains(key)) {
                checkTopicKey(key, source);
                continue;
            }
            if (known.contains(key) || PASSED_ON.stream().anyMatch(key::startsWith)
                    || otherSerde && CONFLUENT_SERDE_PREFIXES.stream().anyMatch(key::startsWith)) {
                continue;
            }
            if (ModelSettings.singleModelKeys().contains(key)) {
                throw new ConfigException(key + " in " + source + " applies to the single model.dir model; with models="
                        + String.join(",", servedModels) + " set it per model, as model.NAME." + key.substring(RerankerConfig.MODEL_PREFIX.length()));
            }
            String hint = closest(key, known).map(k -> " (did you mean '" + k + "'?)").orElse("");
            throw new ConfigException("unknown configuration key '" + key + "' in " + source + hint);
        }
    }

    /** {@code topic.NAME} for a Kafka topic config NAME (passed to the internal topics), else refused. */
    private static void checkTopicKey(String key, String source) {
        String rest = key.substring(TOPIC_PREFIX.length());
        // confluent.*: Confluent Server's own topic configs (placement constraints, tiering), not in Apache Kafka's list.
        if (TOPIC_CONFIGS.contains(rest) || rest.startsWith("confluent.")) {
            return;
        }
        Set<String> ownTopicKeys = new TreeSet<>();
        for (String name : RerankerConfig.DEFINITION.names()) {
            if (name.startsWith(TOPIC_PREFIX)) {
                ownTopicKeys.add(name);
            }
        }
        Set<String> candidates = new HashSet<>(ownTopicKeys);
        TOPIC_CONFIGS.forEach(name -> candidates.add(TOPIC_PREFIX + name));
        String hint = closest(key, candidates).map(k -> " (did you mean '" + k + "'?)").orElse("");
        throw new ConfigException("unknown configuration key '" + key + "' in " + source + hint + ": the topic keys are "
                + String.join(", ", ownTopicKeys) + ", and topic.<topic config> (such as topic.retention.ms) for Kafka Streams'"
                + " internal topics");
    }

    private static Set<String> topicConfigs() {
        Set<String> names = new HashSet<>();
        for (Field field : TopicConfig.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class && field.getName().endsWith("_CONFIG")) {
                try {
                    names.add((String) field.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("TopicConfig." + field.getName() + " is public but not readable", e);
                }
            }
        }
        return Set.copyOf(names);
    }

    private static Optional<String> closest(String key, Set<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = distance(key, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 6) ? Optional.ofNullable(best) : Optional.empty();
    }

    /** Levenshtein distance; a few dozen short keys, so the plain dynamic programme is enough. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
