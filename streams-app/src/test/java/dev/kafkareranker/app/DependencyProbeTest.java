package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Readiness names what it waits for: the topics on a real broker, a broker that does not answer, a registry that does not. */
class DependencyProbeTest {

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    private static RerankerConfig config(String bootstrap, String registry, String prefix) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("schema.registry.url", registry);
        props.put(RerankerConfig.TOPIC_CANDIDATES, prefix + ".candidates");
        props.put(RerankerConfig.TOPIC_RESULTS, prefix + ".results");
        props.put(RerankerConfig.TOPIC_DEAD_LETTERS, prefix + ".dlq");
        return new RerankerConfig(props);
    }

    @Test
    void missingTopicsAreNamedUntilTheyExist() {
        try (DependencyProbe probe = new DependencyProbe(config(kafka.bootstrapServers(), "mock://probe", "dp"))) {
            kafka.createTopics(1, "dp.results", "dp.dlq");
            probe.probe();
            assertEquals("topics missing on " + kafka.bootstrapServers() + ": [dp.candidates]", probe.unavailable());
            kafka.createTopics(1, "dp.candidates");
            probe.probe();
            assertEquals("", probe.unavailable());
        }
    }

    @Test
    void aBrokerThatDoesNotAnswerAndAnUnreachableRegistryAreBothNamed() throws Exception {
        int nobody;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            nobody = socket.getLocalPort();
        }
        try (DependencyProbe probe = new DependencyProbe(config("127.0.0.1:" + nobody, "http://127.0.0.1:" + nobody, "dp2"))) {
            probe.probe();
            String why = probe.unavailable();
            assertTrue(why.contains("no Kafka broker answers at 127.0.0.1:" + nobody), why);
            assertTrue(why.contains("schema registry unavailable"), why);
        }
    }

    @Test
    void anErrorThatStoppedTheAppIsNamedFirst() {
        try (DependencyProbe probe = new DependencyProbe(config(kafka.bootstrapServers(), "mock://probe", "dp3"))) {
            probe.fatalErrors().handler(e -> null).handle(new org.apache.kafka.common.errors.SaslAuthenticationException("bad password"));
            assertTrue(probe.unavailable().startsWith("stopped: the broker at " + kafka.bootstrapServers() + " refused authentication"),
                    probe.unavailable());
        }
    }
}
