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
class KeyBoundsTest {

    private static List<String> check(Map<String, Object> settings) {
        Map<String, Object> props = new HashMap<>(settings);
        props.put("bootstrap.servers", "unused:9092");
        props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
        RerankerConfig config = new RerankerConfig(props);
        return KeyBounds.check(config, config.streamsProperties());
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

    @Test
    void aResultOrDeadLetterCapAboveTheProducersRequestSizeIsRefused() {
        ConfigException results = assertThrows(ConfigException.class, () -> check(Map.of("max.request.size", "500000")));
        assertTrue(results.getMessage().startsWith("results.max.bytes=1000000 is above the producer's max.request.size=500000"),
                results.getMessage());
        ConfigException deadLetters = assertThrows(ConfigException.class, () -> check(Map.of(RerankerConfig.RESULTS_MAX_BYTES, "400000",
                "producer.max.request.size", "500000", RerankerConfig.DEAD_LETTERS_MAX_BYTES, "600000")));
        assertTrue(deadLetters.getMessage().startsWith("dead.letters.max.bytes=600000 is above"), deadLetters.getMessage());
        assertEquals(List.of(), check(Map.of(RerankerConfig.RESULTS_MAX_BYTES, "400000", RerankerConfig.DEAD_LETTERS_MAX_BYTES, "400000",
                "max.request.size", "500000")));
    }

    @Test
    void aQueueBoundBelowOneBatchAndIntervalsAboveTheMaxWaitAreWarned() {
        List<String> queue = check(Map.of(RerankerConfig.INFERENCE_QUEUE_MAX_ROWS, "16", RerankerConfig.INFERENCE_BATCH_MAX_ROWS, "32"));
        assertEquals(1, queue.size(), queue.toString());
        assertTrue(queue.get(0).startsWith("inference.queue.max.rows=16 is below inference.batch.max.rows=32"), queue.get(0));
        List<String> intervals = check(Map.of(RerankerConfig.GATHER_MAX_WAIT_MS, "500", RerankerConfig.GATHER_WATERMARK_INTERVAL_MS, "1000",
                RerankerConfig.GATHER_PUNCTUATE_INTERVAL_MS, "600"));
        assertEquals(2, intervals.size(), intervals.toString());
        assertTrue(intervals.stream().allMatch(w -> w.contains("above gather.max.wait.ms=500")), intervals.toString());
    }
}
