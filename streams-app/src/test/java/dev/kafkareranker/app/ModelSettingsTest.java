package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
}
