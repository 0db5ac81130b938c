package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelOverrides;
import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** model.NAME.* keys go through their own ConfigDef: types, validators and "did you mean" with the full key. */
class ModelSettingsTest {

    private static Map<String, Object> twoModels(Map<String, Object> extra) {
        Map<String, Object> props = new java.util.HashMap<>(Map.of("models", "small,legal", "model.small.dir", "/m/small",
                "model.legal.dir", "/m/legal"));
        props.putAll(extra);
        return props;
    }

    @Test
    void eachModelGetsItsDirectoryAndItsOwnDeviceAndVariantOverTheAppWideOnes() {
        RerankerConfig config = new RerankerConfig(twoModels(Map.of("inference.device", "cpu", "model.legal.device", "cuda:1",
                "model.legal.variant", "fp16")));
        List<ModelRegistry.Served> served = config.servedModels();
        assertEquals("/m/small", served.get(0).dir().toString());
        assertEquals(Device.parse("cpu"), served.get(0).options().device());
        assertEquals(Device.parse("cuda:1"), served.get(1).options().device());
        assertEquals(Optional.of(ModelDirectory.Variant.FP16), served.get(1).options().variant());
    }

    @Test
    void aBadValueIsRefusedNamingTheFullKeyAndWhatIsAllowed() {
        ConfigException variant = assertThrows(ConfigException.class,
                () -> new RerankerConfig(twoModels(Map.of("model.legal.variant", "fp8"))).servedModels());
        assertTrue(variant.getMessage().contains("model.legal.variant") && variant.getMessage().contains("fp16"), variant.getMessage());
        ConfigException device = assertThrows(ConfigException.class,
                () -> new RerankerConfig(twoModels(Map.of("model.small.device", "gpu"))).servedModels());
        assertTrue(device.getMessage().contains("model.small.device") && device.getMessage().contains("cuda:N"), device.getMessage());
    }

    @Test
    void aModelWithoutItsDirectoryIsRefusedNamingTheKey() {
        Map<String, Object> props = twoModels(Map.of());
        props.remove("model.legal.dir");
        ConfigException e = assertThrows(ConfigException.class, () -> new RerankerConfig(props).servedModels());
        assertTrue(e.getMessage().contains("model.legal.dir"), e.getMessage());
    }

    @Test
    void aTypoInAModelKeyIsRefusedWithTheClosestModelKey() {
        Map<String, Object> props = twoModels(Map.of("model.legal.devise", "cpu"));
        ConfigException e = assertThrows(ConfigException.class, () -> KnownKeys.check(props, List.of("small", "legal"), "test.properties"));
        assertTrue(e.getMessage().contains("did you mean 'model.legal.device'"), e.getMessage());
    }

    @Test
    void eachModelsLengthAndLongDocumentKeysReachItsLoads() {
        RerankerConfig config = new RerankerConfig(twoModels(Map.of("model.legal.long.documents", "chunk", "model.legal.max.length", "512",
                "model.legal.chunk.stride", "64", "model.legal.max.chunks", "8", "model.legal.chunk.pooling", "mean",
                "model.legal.max.document.tokens", "4000", "model.legal.truncation.side", "left")));
        ModelOverrides legal = config.servedModels().get(1).overrides();
        assertEquals(new ModelOverrides("model.legal.", OptionalInt.of(512), Optional.of("chunk"), OptionalInt.of(64), OptionalInt.of(8),
                Optional.of("mean"), OptionalInt.of(4000), Optional.of("left")), legal);
        ModelOverrides small = config.servedModels().get(0).overrides();
        assertEquals(Optional.empty(), small.longDocuments(), "unset: the directory's reranker.json decides");
        assertEquals(OptionalInt.empty(), small.maxChunks());
    }

    @Test
    void badLongDocumentValuesAreRefusedNamingTheFullKey() {
        ConfigException mode = assertThrows(ConfigException.class,
                () -> new RerankerConfig(twoModels(Map.of("model.legal.long.documents", "split"))).servedModels());
        assertTrue(mode.getMessage().contains("model.legal.long.documents") && mode.getMessage().contains("chunk"), mode.getMessage());
        ConfigException chunks = assertThrows(ConfigException.class,
                () -> new RerankerConfig(twoModels(Map.of("model.legal.max.chunks", "0"))).servedModels());
        assertTrue(chunks.getMessage().contains("model.legal.max.chunks"), chunks.getMessage());
    }

    @Test
    void theSingleModelDirModelTakesTheKeysWithoutAName() {
        RerankerConfig config = new RerankerConfig(Map.of("model.dir", "../tools/fixtures/roberta-lora", "model.long.documents", "chunk",
                "model.max.chunks", "4"));
        ModelRegistry.Served only = config.servedModels().get(0);
        assertEquals(Optional.of("chunk"), only.overrides().longDocuments());
        assertEquals(OptionalInt.of(4), only.overrides().maxChunks());
        assertEquals("model.max.chunks", only.overrides().key("max_chunks"));
        KnownKeys.check(Map.of("model.dir", "x", "model.long.documents", "chunk"), List.of(), "test.properties");
    }

    @Test
    void theSingleModelKeysAreRefusedBesideModelsNamingThePerModelKey() {
        Map<String, Object> props = twoModels(Map.of("model.long.documents", "chunk"));
        ConfigException e = assertThrows(ConfigException.class, () -> KnownKeys.check(props, List.of("small", "legal"), "test.properties"));
        assertTrue(e.getMessage().contains("model.long.documents") && e.getMessage().contains("model.NAME.long.documents"), e.getMessage());
    }
}
