package dev.kafkareranker.app;

import dev.kafkareranker.serde.SerdeConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Refuses configuration keys that nothing reads: a typo such as {@code gather.max.wiat.ms} would
 * otherwise pass through to Kafka as an unknown key and be silently ignored.
 */
final class KnownKeys {

    /** Prefixes Kafka Streams itself passes on (to its clients and internal topics). */
    private static final List<String> PASSED_ON = List.of("consumer.", "producer.", "admin.", "main.consumer.",
            "restore.consumer.", "global.consumer.", "topic.", "client.tags.");

    private KnownKeys() {
    }

    static void check(Map<String, ?> props, List<String> servedModels, String source) {
        Set<String> known = new HashSet<>(RerankerConfig.DEFINITION.names());
        known.addAll(StreamsConfig.configDef().names());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(ProducerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());
        known.addAll(SerdeConfig.DEFINITION.names());
        for (String model : servedModels) {
            for (String setting : List.of("dir", "device", "variant")) {
                known.add(RerankerConfig.MODEL_PREFIX + model + "." + setting);
            }
        }
        for (String key : props.keySet()) {
            if (known.contains(key) || PASSED_ON.stream().anyMatch(key::startsWith)) {
                continue;
            }
            String hint = closest(key, known).map(k -> " (did you mean '" + k + "'?)").orElse("");
            throw new ConfigException("unknown configuration key '" + key + "' in " + source + hint);
        }
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
