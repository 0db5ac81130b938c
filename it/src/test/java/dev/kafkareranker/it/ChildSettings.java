package dev.kafkareranker.it;

import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Settings for a {@link ChildApp} on a {@link TestCluster}, whichever path it took. */
final class ChildSettings {

    private ChildSettings() {
    }

    /**
     * The registry a child JVM can reach: the cluster's own on the container path (Apicurio); on the in-JVM
     * path the in-process {@code mock://} registry is not shared across JVMs, so {@code fallback}'s HTTP one.
     */
    static String registryUrl(TestCluster cluster, FakeSchemaRegistryServer fallback) {
        return cluster.registryUrl().startsWith("mock:") ? fallback.url() : cluster.registryUrl();
    }

    /**
     * Topics PREFIX.candidates (4 partitions), PREFIX.results and PREFIX.dlq are created; the tiny BERT fixture
     * scores on the CPU with two stream threads.
     */
    static Map<String, String> create(TestCluster cluster, String registryUrl, String prefix, String applicationId, Path dir)
            throws IOException {
        cluster.createTopics(4, prefix + ".candidates");
        cluster.createTopics(2, prefix + ".results", prefix + ".dlq");
        return settings(cluster.bootstrapServers(), registryUrl, prefix, applicationId, dir);
    }

    /** The same settings for a broker whose topics PREFIX.candidates, .results and .dlq the caller has created. */
    static Map<String, String> settings(String bootstrapServers, String registryUrl, String prefix, String applicationId, Path dir)
            throws IOException {
        Map<String, String> settings = new HashMap<>();
        settings.put("bootstrap.servers", bootstrapServers);
        settings.put("schema.registry.url", registryUrl);
        settings.put("application.id", applicationId);
        settings.put("admin.port", "0");
        settings.put("state.dir", Files.createDirectories(dir.resolve("state")).toString());
        settings.put("topic.candidates", prefix + ".candidates");
        settings.put("topic.results", prefix + ".results");
        settings.put("topic.dead.letters", prefix + ".dlq");
        settings.put("model.dir", Path.of("..", "tools", "fixtures", "bert-cross-encoder").toAbsolutePath().toString());
        settings.put("inference.device", "cpu");
        settings.put("num.stream.threads", "2");
        return settings;
    }
}
