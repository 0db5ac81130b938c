package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Keys of Confluent's serde: the simple ones this serde implements do what Confluent's do
 * ({@code normalize.schemas}, {@code use.schema.id}, a static bearer token, the legacy user-info key); the
 * others are accepted and ignored with one WARN each; what cannot be honoured is refused at configure time.
 */
class ConfluentSerdeKeysTest {

    private static final String TOPIC = "candidates";

    private static int headerId(byte[] bytes) {
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    @Test
    void normalizeSchemasAsksTheRegistryToNormalize() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url(), SerdeConfig.NORMALIZE_SCHEMAS, true)
                    .serializer().serialize(TOPIC, TestRecords.fullCandidate());
            SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url())
                    .serializer().serialize(TOPIC, TestRecords.fullCandidate());
            assertEquals(List.of("normalize=true", ""), fake.requestQueries());
        }
    }

    @Test
    void useSchemaIdWritesThatIdWhenItIsTheRecordsSchemaAndRefusesAnother() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            int v1 = fake.registerDirectly("other-value", TestRecords.candidateV1().toString());
            int contract = fake.registerDirectly("other-value", TestRecords.avscText("RetrievalCandidate"));

            byte[] bytes = SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url(), SerdeConfig.AUTO_REGISTER_SCHEMAS, false,
                    SerdeConfig.USE_SCHEMA_ID, contract).serializer().serialize(TOPIC, TestRecords.fullCandidate());
            assertEquals(contract, headerId(bytes));

            SerializationException e = assertThrows(SerializationException.class, () -> SpecificAvroSerdeTest
                    .<RetrievalCandidate>serde(fake.url(), SerdeConfig.AUTO_REGISTER_SCHEMAS, false, SerdeConfig.USE_SCHEMA_ID, v1)
                    .serializer().serialize(TOPIC, TestRecords.fullCandidate()));
            assertTrue(e.getMessage().contains("use.schema.id=" + v1), e.getMessage());
        }
    }

    @Test
    void aStaticBearerTokenIsSent() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url(), SerdeConfig.BEARER_AUTH_CREDENTIALS_SOURCE, "STATIC_TOKEN",
                    SerdeConfig.BEARER_AUTH_TOKEN, "t0ken").serializer().serialize(TOPIC, TestRecords.fullCandidate());
            assertEquals(List.of("Bearer t0ken"), fake.requestHeaders().get(0).get("Authorization"));
        }
    }

    @Test
    void theLegacyUserInfoKeyIsRead() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.startWithBasicAuth("alice", "s3cret")) {
            SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url(), SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                    SerdeConfig.LEGACY_BASIC_AUTH_USER_INFO, "alice:s3cret").serializer().serialize(TOPIC, TestRecords.fullCandidate());
            String expected = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
            assertEquals(List.of(expected), fake.requestHeaders().get(0).get("Authorization"));
        }
    }

    @Test
    void bearerSourcesOtherThanAStaticTokenAndTwoKindsOfAuthAreRefused() {
        ConfigException oauth = assertThrows(ConfigException.class, () -> new SerdeConfig(Map.of(
                SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:1", SerdeConfig.BEARER_AUTH_CREDENTIALS_SOURCE, "OAUTHBEARER",
                SerdeConfig.BEARER_AUTH_TOKEN, "t")));
        assertTrue(oauth.getMessage().contains("OAUTHBEARER") && oauth.getMessage().contains("value.serde.class"), oauth.getMessage());

        SerdeConfig both = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "http://u:p@127.0.0.1:1",
                SerdeConfig.BEARER_AUTH_TOKEN, "t"));
        ConfigException e = assertThrows(ConfigException.class, both::client);
        assertTrue(e.getMessage().contains("not both"), e.getMessage());
    }

    @Test
    void ignoredConfluentKeysAreAcceptedWithOneWarnEach() {
        Logger logger = (Logger) LoggerFactory.getLogger(SerdeConfig.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            // Keys no other test names: the once-per-JVM memory is shared by every test in this JVM.
            Map<String, Object> props = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://keys",
                    "max.schemas.per.subject", "10", "rule.service.loader.enable", "false", "avro.remove.java.properties", "true");
            new SerdeConfig(props);
            new SerdeConfig(props);

            List<String> warnings = appender.list.stream().filter(event -> event.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.stream().anyMatch(w -> w.startsWith("max.schemas.per.subject is a setting of Confluent's serde")), warnings.toString());
            assertTrue(warnings.stream().anyMatch(w -> w.startsWith("rule.service.loader.enable")), warnings.toString());
            assertTrue(warnings.stream().allMatch(w -> w.contains("value.serde.class")), warnings.toString());
        } finally {
            logger.detachAppender(appender);
        }
    }
}
