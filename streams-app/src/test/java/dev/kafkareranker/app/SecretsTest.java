package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.kafkareranker.serde.MockSchemaRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Security settings reach the Kafka clients unchanged, and no secret reaches the logs. */
class SecretsTest {

    private static final String JAAS_SECRET = "jaas-pa55-word";
    private static final String REGISTRY_SECRET = "registry-pa55-word";
    private static final String TRUSTSTORE_SECRET = "truststore-pa55-word";
    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
    /** The config dump each kind of Kafka client logs when it is made: a starting pipeline makes all three. */
    private static final List<String> CLIENT_CONFIG_DUMPS = List.of("AdminClientConfig values", "ConsumerConfig values",
            "ProducerConfig values");

    private static Map<String, Object> secureSettings() throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", "127.0.0.1:1");
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.mechanism", "SCRAM-SHA-512");
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"app\" password=\""
                + JAAS_SECRET + "\";");
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.endpoint.identification.algorithm", "https");
        props.put("ssl.truststore.password", TRUSTSTORE_SECRET);
        props.put("schema.registry.url", "mock://secrets");
        props.put("basic.auth.credentials.source", "USER_INFO");
        props.put("basic.auth.user.info", "app:" + REGISTRY_SECRET);
        props.put("state.dir", Files.createTempDirectory("secrets").toString());
        props.put("admin.port", "0");
        return props;
    }

    @Test
    void saslAndTlsClientSettingsPassThroughToKafkaStreams() throws Exception {
        Properties streams = new RerankerConfig(secureSettings()).streamsProperties();
        assertEquals("SASL_SSL", streams.get("security.protocol"));
        assertEquals("SCRAM-SHA-512", streams.get("sasl.mechanism"));
        assertTrue(streams.get("sasl.jaas.config").toString().contains(JAAS_SECRET));
        assertEquals("https", streams.get("ssl.endpoint.identification.algorithm"));
        assertEquals("app:" + REGISTRY_SECRET, new RerankerConfig(secureSettings()).serdeConfig().get("basic.auth.user.info"));
    }

    /**
     * A pipeline with every secret configured starts on a real broker until Kafka Streams is RUNNING, then stops: by
     * RUNNING every client a running pipeline has (the start-up's admin client, each stream thread's consumers and
     * producer, Kafka Streams' admin client) has been made and has logged its settings, so the capture holds the whole
     * start, not as much of it as a fixed wait happened to see. The broker speaks plaintext, so the SASL and TLS
     * settings are configured but not used: what is checked is what the logs say of them.
     */
    @Test
    void noSecretAppearsInTheLogsOfAPipelineStartingUntilRunningAndStopping() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(1, "secrets.candidates", "secrets.results", "secrets.dlq");
            Map<String, Object> settings = secureSettings();
            settings.put("bootstrap.servers", kafka.bootstrapServers());
            settings.put("security.protocol", "PLAINTEXT");
            settings.put(RerankerConfig.TOPIC_CANDIDATES, "secrets.candidates");
            settings.put(RerankerConfig.TOPIC_RESULTS, "secrets.results");
            settings.put(RerankerConfig.TOPIC_DEAD_LETTERS, "secrets.dlq");
            settings.put(RerankerConfig.MODEL_DIR, FIXTURE.toString());
            settings.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
            CountDownLatch running = new CountDownLatch(1);
            List<ILoggingEvent> logs = captured(() -> {
                try (RerankerApp app = RerankerApp.create(new RerankerConfig(settings))) {
                    app.addStateListener((now, before) -> {
                        if (now == KafkaStreams.State.RUNNING) {
                            running.countDown();
                        }
                    });
                    app.start();
                    // The deadline only bounds a hang.
                    assertTrue(running.await(3, TimeUnit.MINUTES), "Kafka Streams went RUNNING; it is " + app.state());
                }
            });
            String text = text(logs);
            for (String dump : CLIENT_CONFIG_DUMPS) {
                List<String> dumps = logs.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith(dump)).toList();
                assertFalse(dumps.isEmpty(), "the capture holds Kafka's " + dump);
                assertTrue(dumps.stream().allMatch(m -> m.contains("sasl.jaas.config = [hidden]")), dump + " hides sasl.jaas.config");
            }
            assertNoSecretIn(text);
        } finally {
            MockSchemaRegistry.drop("secrets");
        }
    }

    /**
     * A start that finds no broker fails at its look-up of the candidates topics, after default.api.timeout.ms: its
     * error and everything logged until then (the settings, the admin client's config) hold no secret.
     */
    @Test
    void aStartThatFindsNoBrokerFailsWithoutASecretInItsErrorOrLogs() throws Exception {
        Map<String, Object> settings = secureSettings();
        // The TLS handshake to nowhere would fail anyway: plaintext SASL keeps the start-up quick while the
        // same secrets are configured.
        settings.put("security.protocol", "SASL_PLAINTEXT");
        // No broker answers at 127.0.0.1:1: the start-up's look-up of the candidates topics (InputPartitions)
        // gives up after default.api.timeout.ms, having logged its admin client's settings.
        settings.put("default.api.timeout.ms", "2000");
        settings.put("request.timeout.ms", "2000");
        IllegalStateException[] failure = new IllegalStateException[1];
        try {
            List<ILoggingEvent> logs = captured(() -> failure[0] = assertThrows(IllegalStateException.class,
                    () -> RerankerApp.create(new RerankerConfig(settings))));
            assertTrue(failure[0].getMessage().contains("candidates topics"), failure[0].getMessage());
            assertFalse(failure[0].getMessage().contains(JAAS_SECRET), "the JAAS password leaked into the error");
            assertTrue(logs.size() > 20, "the capture saw the start-up: " + logs.size() + " lines");
            assertTrue(text(logs).contains("AdminClientConfig values"), "Kafka's config dump was captured");
            assertNoSecretIn(text(logs));
        } finally {
            MockSchemaRegistry.drop("secrets");
        }
    }

    private interface Action {
        void run() throws Exception;
    }

    /** What is logged at DEBUG (Kafka's own loggers at INFO, where its config dumps are) while {@code action} runs. */
    private static List<ILoggingEvent> captured(Action action) throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level previous = root.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        root.setLevel(Level.DEBUG);
        context.getLogger("org.apache.kafka").setLevel(Level.INFO);
        try {
            action.run();
        } finally {
            root.detachAppender(captured);
            root.setLevel(previous);
            context.getLogger("org.apache.kafka").setLevel(null);
        }
        return List.copyOf(captured.list);
    }

    private static String text(List<ILoggingEvent> logs) {
        StringBuilder all = new StringBuilder();
        for (ILoggingEvent e : logs) {
            all.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                all.append(e.getThrowableProxy().getMessage()).append('\n');
            }
        }
        return all.toString();
    }

    private static void assertNoSecretIn(String logs) {
        assertTrue(logs.contains("sasl.jaas.config"), "Kafka's config dump was captured");
        assertFalse(logs.contains(JAAS_SECRET), "the JAAS password leaked");
        assertFalse(logs.contains(REGISTRY_SECRET), "the registry password leaked");
        assertFalse(logs.contains(TRUSTSTORE_SECRET), "the trust store password leaked");
    }
}
