package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Start-up checks of the gathering settings. The settings of the two scoring modes and of the declared
 * co-partitioning are gone: a user's file that sets them still loads, and says once that they no longer
 * have an effect. A topic's default model must be served.
 */
class StartupChecksTest {

    private static RerankerConfig config(Map<String, Object> extra) {
        Map<String, Object> props = new HashMap<>(extra);
        props.put("bootstrap.servers", "unused:9092");
        props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
        return new RerankerConfig(props);
    }

    private static List<String> warnings(RerankerConfig config) {
        Logger logger = (Logger) LoggerFactory.getLogger(StartupChecks.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        try {
            StartupChecks.warnIgnoredSettings(config);
        } finally {
            logger.detachAppender(captured);
        }
        return captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aFileThatSetsTheOldScoringModeOrCopartitioningLoadsAndIsWarnedOnceEach() {
        List<String> lines = warnings(config(Map.of(RerankerConfig.GATHER_SCORING_OVERLAP, "off", RerankerConfig.GATHER_INPUT_COPARTITIONED, "true")));
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("gather.scoring.overlap=off no longer has an effect"), lines.get(0));
        assertTrue(lines.get(1).startsWith("gather.input.copartitioned=true no longer has an effect"), lines.get(1));
    }

    @Test
    void aFileThatSetsNeitherIsNotWarned() {
        assertEquals(List.of(), warnings(config(Map.of())));
    }

    @Test
    void aValueTheOldSettingNeverTookIsStillRefusedNamingTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> config(Map.of(RerankerConfig.GATHER_SCORING_OVERLAP, "sometimes")));
        assertTrue(e.getMessage().contains(RerankerConfig.GATHER_SCORING_OVERLAP), e.getMessage());
    }

    @Test
    void aDefaultModelByTopicThatIsNotServedIsAStartUpErrorNamingIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> StartupChecks.defaultModelsServed(
                config(Map.of(RerankerConfig.MODELS_DEFAULT_BY_TOPIC, "legal.candidates:legal"))));
        assertTrue(e.getMessage().contains("models.default.by.topic") && e.getMessage().contains("model 'legal' is not served"), e.getMessage());
        StartupChecks.defaultModelsServed(config(Map.of(RerankerConfig.MODELS_DEFAULT_BY_TOPIC, "any.candidates:bert-cross-encoder")));
    }
}
