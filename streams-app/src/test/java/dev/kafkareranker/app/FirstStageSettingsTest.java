package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.serving.ModelRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** model.NAME.first.stage and .first.stage.top.n: read per model, refused at start in one line naming the keys. */
class FirstStageSettingsTest {

    private static Map<String, Object> models(String names, Map<String, Object> extra) {
        Map<String, Object> props = new HashMap<>(Map.of("models", names));
        for (String name : names.split(",")) {
            props.put("model." + name + ".dir", "/m/" + name);
        }
        props.putAll(extra);
        return props;
    }

    private static List<ModelRegistry.Served> served(Map<String, Object> props) {
        return new RerankerConfig(props).servedModels();
    }

    private static ConfigException refused(Map<String, Object> props) {
        ConfigException e = assertThrows(ConfigException.class, () -> served(props));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void aModelNamesItsFirstStageAndHowManyCandidatesGoOnToIt() {
        List<ModelRegistry.Served> served = served(models("ce,llm", Map.of("model.llm.first.stage", "ce", "model.llm.first.stage.top.n", "8")));
        assertEquals(Optional.empty(), served.get(0).firstStage());
        assertEquals(Optional.of(new ModelRegistry.FirstStage("ce", 8)), served.get(1).firstStage());
    }

    @Test
    void withoutTopNTheModelScoresTheFirstStagesBestTwenty() {
        List<ModelRegistry.Served> served = served(models("ce,llm", Map.of("model.llm.first.stage", "ce")));
        assertEquals(Optional.of(new ModelRegistry.FirstStage("ce", ModelSettings.DEFAULT_FIRST_STAGE_TOP_N)), served.get(1).firstStage());
        assertEquals(20, ModelSettings.DEFAULT_FIRST_STAGE_TOP_N);
    }

    @Test
    void aFirstStageThatIsNotServedIsRefusedNamingTheServedModels() {
        ConfigException e = refused(models("ce,llm", Map.of("model.llm.first.stage", "bm25")));
        assertTrue(e.getMessage().contains("model.llm.first.stage") && e.getMessage().contains("bm25")
                && e.getMessage().contains("[ce, llm]"), e.getMessage());
    }

    @Test
    void aModelThatIsItsOwnFirstStageIsRefused() {
        ConfigException e = refused(models("ce,llm", Map.of("model.llm.first.stage", "llm")));
        assertTrue(e.getMessage().contains("model.llm.first.stage") && e.getMessage().contains("its own first stage"), e.getMessage());
    }

    @Test
    void twoModelsNamingEachOtherAreRefusedAsACycleNamingBothKeys() {
        ConfigException e = refused(models("ce,llm", Map.of("model.llm.first.stage", "ce", "model.ce.first.stage", "llm")));
        assertTrue(e.getMessage().contains("model.ce.first.stage") && e.getMessage().contains("model.llm.first.stage")
                && e.getMessage().contains("name each other"), e.getMessage());
    }

    @Test
    void aChainOfThreeIsRefusedNamingTheMiddleModelsKey() {
        ConfigException e = refused(models("bi,ce,llm", Map.of("model.llm.first.stage", "ce", "model.ce.first.stage", "bi")));
        assertTrue(e.getMessage().contains("model.llm.first.stage") && e.getMessage().contains("model.ce.first.stage=bi"), e.getMessage());
    }

    @Test
    void aTopNBelowOneIsRefusedNamingTheKey() {
        ConfigException e = refused(models("ce,llm", Map.of("model.llm.first.stage", "ce", "model.llm.first.stage.top.n", "0")));
        assertTrue(e.getMessage().contains("model.llm.first.stage.top.n") && e.getMessage().contains("0"), e.getMessage());
    }

    @Test
    void aTopNWithoutAFirstStageIsRefusedRatherThanIgnored() {
        ConfigException e = refused(models("ce,llm", Map.of("model.llm.first.stage.top.n", "5")));
        assertTrue(e.getMessage().contains("model.llm.first.stage.top.n") && e.getMessage().contains("model.llm.first.stage"), e.getMessage());
    }

    @Test
    void theKeysAreKnownPerModelAndATypoGetsTheClosest() {
        Map<String, Object> props = models("ce,llm", Map.of("model.llm.first.stage", "ce", "model.llm.first.stage.top.n", "4"));
        KnownKeys.check(props, List.of("ce", "llm"), "test.properties");
        Map<String, Object> typo = models("ce,llm", Map.of("model.llm.first.stages", "ce"));
        ConfigException e = assertThrows(ConfigException.class, () -> KnownKeys.check(typo, List.of("ce", "llm"), "test.properties"));
        assertTrue(e.getMessage().contains("did you mean 'model.llm.first.stage'"), e.getMessage());
    }
}
