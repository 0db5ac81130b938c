package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kafkareranker.serving.ModelRegistry;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** gather.scoring.overlap=auto follows where the loaded models run; on and off are taken as said. */
class ScoringOverlapTest {

    private static boolean overlap(String setting) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", "unused:9092");
        props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
        props.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
        props.put(RerankerConfig.GATHER_SCORING_OVERLAP, setting);
        RerankerConfig config = new RerankerConfig(props);
        List<ModelRegistry.Served> served = config.servedModels();
        try (ModelRegistry models = ModelRegistry.open(served, config.defaultModel(served))) {
            return RerankerApp.gatherSettings(config, models).overlapScoring();
        }
    }

    @Test
    void autoWaitsForScoresWhenEveryModelRunsOnTheCpu() {
        assertEquals(false, overlap("auto"));
    }

    @Test
    void onAndOffOverrideAuto() {
        assertEquals(true, overlap("on"));
        assertEquals(false, overlap("off"));
    }

    @Test
    void anyOtherValueIsRefusedNamingTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> overlap("sometimes"));
        assertEquals(true, e.getMessage().contains(RerankerConfig.GATHER_SCORING_OVERLAP), e.getMessage());
    }
}
