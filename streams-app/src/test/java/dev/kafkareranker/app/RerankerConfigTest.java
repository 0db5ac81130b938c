package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RerankerConfigTest {

    @TempDir
    Path dir;

    @Test
    void environmentOverridesTheFile() throws IOException {
        Path file = dir.resolve("app.properties");
        Files.writeString(file, "bootstrap.servers=file:9092\ngather.max.wait.ms=1000\nschema.registry.url=http://sr:8081\n");
        RerankerConfig config = RerankerConfig.load(Optional.of(file),
                Map.of("RERANKER_GATHER_MAX_WAIT_MS", "2500", "RERANKER_BOOTSTRAP_SERVERS", "env:9092", "PATH", "/bin"));
        assertEquals(2500, config.gatherSettings().maxWait().toMillis());
        Properties streams = config.streamsProperties();
        assertEquals("env:9092", streams.get("bootstrap.servers"));
        assertEquals("http://sr:8081", config.serdeConfig().get("schema.registry.url"));
        assertFalse(streams.containsKey("gather.max.wait.ms"), "the reranker's own keys are not passed to Kafka Streams");
    }

    @Test
    void defaultsToExactlyOnceAndTheBuiltInDeadLetterQueueButLetsUsersOverride() {
        Properties streams = new RerankerConfig(Map.of("topic.dead.letters", "my.dlq")).streamsProperties();
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, streams.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals("my.dlq", streams.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG));
        Properties overridden = new RerankerConfig(Map.of("processing.guarantee", "at_least_once")).streamsProperties();
        assertEquals("at_least_once", overridden.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    }

    @Test
    void instanceIdTurnsOnStaticMembershipAndTheSessionTimeoutIsShortButOverridable() {
        Properties dynamic = new RerankerConfig(Map.of()).streamsProperties();
        assertEquals(null, dynamic.get("group.instance.id"), "no instance.id: dynamic membership");
        assertEquals("10000", dynamic.get("session.timeout.ms"));
        Properties fixed = new RerankerConfig(Map.of("instance.id", " reranker-0 ", "session.timeout.ms", "30000")).streamsProperties();
        assertEquals("reranker-0", fixed.get("group.instance.id"));
        assertEquals("30000", fixed.get("session.timeout.ms"), "a user's own session.timeout.ms wins");
    }

    @Test
    void anIdleStreamThreadWakesEvery10msSoPacedCommitsAreNotLeftToKafkasPollTime() {
        // Kafka's own 100 ms would hold a commit requested while the thread waits for input (CommitPacer).
        assertEquals("2", new RerankerConfig(Map.of()).streamsProperties().get(StreamsConfig.POLL_MS_CONFIG));
        assertEquals("250", new RerankerConfig(Map.of("poll.ms", "250")).streamsProperties().get(StreamsConfig.POLL_MS_CONFIG),
                "a user's own poll.ms wins");
    }

    @Test
    void badValuesNameTheKeyTheValueAndWhatIsAllowed() {
        ConfigException e = assertThrows(ConfigException.class, () -> new RerankerConfig(Map.of("gather.max.wait.ms", "-5")));
        assertTrue(e.getMessage().contains("gather.max.wait.ms") && e.getMessage().contains("-5"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> new RerankerConfig(Map.of("inference.model.variant", "fp8")));
        assertTrue(e.getMessage().contains("inference.model.variant") && e.getMessage().contains("fp16"), e.getMessage());
        IllegalArgumentException device = assertThrows(IllegalArgumentException.class,
                () -> new RerankerConfig(Map.of("inference.device", "tpu")));
        assertTrue(device.getMessage().contains("inference.device") && device.getMessage().contains("tpu"));
    }

    @Test
    void aMissingConfigFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RerankerConfig.load(Optional.of(dir.resolve("absent.properties")), Map.of()));
        assertTrue(e.getMessage().contains("absent.properties"), e.getMessage());
    }
}
