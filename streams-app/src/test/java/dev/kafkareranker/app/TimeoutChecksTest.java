package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Timeouts that bound one another are checked at start: what would fence or time out in a loop is refused naming both keys. */
class TimeoutChecksTest {

    private static List<String> check(Map<String, Object> settings) {
        Map<String, Object> props = new HashMap<>(settings);
        props.put("bootstrap.servers", "unused:9092");
        props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
        RerankerConfig config = new RerankerConfig(props);
        return TimeoutChecks.check(config, config.streamsProperties());
    }

    @Test
    void theDefaultsPass() {
        assertEquals(List.of(), check(Map.of()));
    }

    @Test
    void aCommitIntervalTheTransactionTimeoutCannotCoverIsRefusedNamingBothWhicheverKeySetIt() {
        ConfigException prefixed = assertThrows(ConfigException.class,
                () -> check(Map.of("commit.interval.ms", "58000", "producer.transaction.timeout.ms", "60000")));
        assertTrue(prefixed.getMessage().contains("producer.transaction.timeout.ms=60000") && prefixed.getMessage().contains("commit.interval.ms=58000"),
                prefixed.getMessage());
        // The app sets producer.transaction.timeout.ms=60000 itself, which wins over a plain transaction.timeout.ms.
        assertEquals(List.of(), check(Map.of("transaction.timeout.ms", "1000")));
        ConfigException plain = assertThrows(ConfigException.class,
                () -> check(Map.of("commit.interval.ms", "30000", "producer.transaction.timeout.ms", "20000")));
        assertTrue(plain.getMessage().contains("lower commit.interval.ms"), plain.getMessage());
    }

    @Test
    void aRequestTimeoutBelowTwoBatchTimeoutsIsRefusedSayingWhichToRaise() {
        ConfigException e = assertThrows(ConfigException.class, () -> check(Map.of(RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS, "30000",
                RerankerConfig.INFERENCE_REQUEST_TIMEOUT_MS, "45000")));
        assertTrue(e.getMessage().startsWith("inference.request.timeout.ms=45000 must be at least twice inference.batch.timeout.ms=30000"),
                e.getMessage());
        assertTrue(e.getMessage().contains("raise inference.request.timeout.ms"), e.getMessage());
    }

    @Test
    void aWatermarkHoldShorterThanTheSessionTimeoutIsWarned() {
        List<String> warnings = check(Map.of(RerankerConfig.GATHER_WATERMARK_MAX_HOLD_MS, "8000"));
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("session.timeout.ms=10000"), warnings.get(0));
    }
}
