package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Whether gather.scoring.overlap is known before the models load, so that they load while Kafka Streams
 * is set up: only auto with a model on inference.device=auto must wait for where the model opened.
 */
class ScoringOverlapBeforeLoadTest {

    private static Optional<Boolean> fromConfig(String overlap, String device) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", "unused:9092");
        props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
        props.put(RerankerConfig.INFERENCE_DEVICE, device);
        props.put(RerankerConfig.GATHER_SCORING_OVERLAP, overlap);
        RerankerConfig config = new RerankerConfig(props);
        return RerankerApp.gatherSettings(config, config.servedModels()).map(s -> s.overlapScoring());
    }

    @Test
    void autoIsOffOnTheCpuAndOnOnCudaWithoutLoadingTheModel() {
        assertEquals(Optional.of(false), fromConfig("auto", "cpu"));
        assertEquals(Optional.of(true), fromConfig("auto", "cuda"));
        assertEquals(Optional.of(true), fromConfig("auto", "cuda:1"));
    }

    @Test
    void autoOnADeviceChosenAtLoadWaitsForTheModels() {
        assertEquals(Optional.empty(), fromConfig("auto", "auto"));
    }

    @Test
    void onAndOffAreKnownWhateverTheDevice() {
        assertEquals(Optional.of(true), fromConfig("on", "auto"));
        assertEquals(Optional.of(false), fromConfig("off", "cuda"));
    }
}
