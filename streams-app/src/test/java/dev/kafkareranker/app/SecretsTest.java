package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.kafkareranker.serde.MockSchemaRegistry;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Security settings reach the Kafka clients unchanged, and no secret reaches the logs. */
class SecretsTest {

    private static final String JAAS_SECRET = "jaas-pa55-word";
    private static final String REGISTRY_SECRET = "registry-pa55-word";
    private static final String TRUSTSTORE_SECRET = "truststore-pa55-word";

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

    @Test
    void noSecretAppearsInTheLogsOfAStartingPipeline() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.classic.Level previous = root.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        // Everything, Kafka's own config dumps included.
        root.setLevel(ch.qos.logback.classic.Level.DEBUG);
        context.getLogger("org.apache.kafka").setLevel(ch.qos.logback.classic.Level.INFO);
        try {
            Map<String, Object> settings = secureSettings();
            // The TLS handshake to nowhere would fail anyway: plaintext SASL keeps the start-up quick while the
            // same secrets are configured.
            settings.put("security.protocol", "SASL_PLAINTEXT");
            // No broker answers at 127.0.0.1:1: the start-up's look-up of the candidates topics (InputPartitions)
            // gives up after default.api.timeout.ms, having logged its admin client's settings.
            settings.put("default.api.timeout.ms", "2000");
            settings.put("request.timeout.ms", "2000");
            try (RerankerApp app = RerankerApp.create(new RerankerConfig(settings))) {
                app.start();
                Thread.sleep(1500);
            } catch (IllegalStateException expected) {
                assertTrue(expected.getMessage().contains("candidates topics"), expected.getMessage());
                assertFalse(expected.getMessage().contains(JAAS_SECRET), "the JAAS password leaked into the error");
            }
        } finally {
            root.detachAppender(captured);
            root.setLevel(previous);
            context.getLogger("org.apache.kafka").setLevel(null);
            MockSchemaRegistry.drop("secrets");
        }
        StringBuilder all = new StringBuilder();
        for (ILoggingEvent e : captured.list) {
            all.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                all.append(e.getThrowableProxy().getMessage()).append('\n');
            }
        }
        String logs = all.toString();
        assertTrue(captured.list.size() > 20, "the capture saw the start-up: " + captured.list.size() + " lines");
        assertTrue(logs.contains("sasl.jaas.config"), "Kafka's config dump was captured");
        assertFalse(logs.contains(JAAS_SECRET), "the JAAS password leaked");
        assertFalse(logs.contains(REGISTRY_SECRET), "the registry password leaked");
        assertFalse(logs.contains(TRUSTSTORE_SECRET), "the trust store password leaked");
    }
}
