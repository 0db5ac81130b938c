package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which keys a configuration may hold: topic keys, Confluent's serde keys with either serde, typos refused. */
class KnownKeysTest {

    private static final String BASE = "bootstrap.servers=127.0.0.1:1\nschema.registry.url=mock://keys\n";
    /** Any serde class other than the project's own stands for Confluent's, whose jar is not on this classpath. */
    private static final String OTHER_SERDE = "value.serde.class=org.apache.kafka.common.serialization.Serdes$StringSerde\n";

    @TempDir
    Path dir;

    private RerankerConfig load(String properties) throws IOException {
        Path file = dir.resolve("reranker.properties");
        Files.writeString(file, BASE + properties);
        return RerankerConfig.load(Optional.of(file), Map.of());
    }

    @Test
    void aTopicKeyTypoIsRefusedNamingTheTopicKeys() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("topic.result=ranked\n"));
        assertTrue(e.getMessage().contains("'topic.result'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'topic.results'?"), e.getMessage());
        assertTrue(e.getMessage().contains("topic.candidates, topic.dead.letters, topic.results"), e.getMessage());
        assertTrue(e.getMessage().contains("topic.retention.ms"), "says what else topic.* may be: " + e.getMessage());
    }

    @Test
    void aTopicConfigTypoIsRefusedWithTheClosestTopicConfig() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("topic.retention.mss=1000\n"));
        assertTrue(e.getMessage().contains("did you mean 'topic.retention.ms'?"), e.getMessage());
    }

    @Test
    void internalTopicConfigsAndTheOwnTopicKeysPass() {
        assertDoesNotThrow(() -> load("topic.results=ranked\ntopic.candidates=in\ntopic.dead.letters=dlq\n"
                + "topic.retention.ms=1000\ntopic.cleanup.policy=compact\ntopic.min.insync.replicas=2\n"
                + "topic.confluent.placement.constraints={}\n"));
    }

    @Test
    void confluentSerdeKeysPassWithTheOwnSerdeWhenKnown() {
        assertDoesNotThrow(() -> load("avro.remove.java.properties=true\nnormalize.schemas=true\nuse.schema.id=-1\n"
                + "bearer.auth.credentials.source=STATIC_TOKEN\nlatest.compatibility.strict=false\nid.compatibility.strict=false\n"
                + "schema.registry.ssl.endpoint.identification.algorithm=https\nspecific.avro.value.type=dev.kafkareranker.avro.RetrievalCandidate\n"
                + "max.retries=5\nretries.wait.ms=100\nretries.max.wait.ms=1000\n"));
        // A key no Confluent serde this project knows of defines is still a typo with the own serde.
        ConfigException e = assertThrows(ConfigException.class, () -> load("avro.remove.java.propertie=true\n"));
        assertTrue(e.getMessage().contains("did you mean 'avro.remove.java.properties'?"), e.getMessage());
    }

    @Test
    void withAnotherSerdeEveryKeyUnderConfluentsPrefixesPasses() {
        assertDoesNotThrow(() -> load(OTHER_SERDE + "avro.remove.java.properties=true\nnormalize.schemas=true\nuse.schema.id=3\n"
                + "bearer.auth.credentials.source=OAUTHBEARER\nbearer.auth.issuer.endpoint.url=https://idp\n"
                + "schema.registry.ssl.engine.factory.class=x.Y\navro.some.future.setting=1\nrule.some.future.setting=1\n"));
        // Its prefixes, not everything: the reranker's own typos are still caught.
        ConfigException e = assertThrows(ConfigException.class, () -> load(OTHER_SERDE + "gather.max.wiat.ms=1\n"));
        assertTrue(e.getMessage().contains("gather.max.wait.ms"), e.getMessage());
    }
}
