package dev.kafkareranker.app;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.model.ModelDirectory.Variant;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The settings of one served model, {@code model.NAME.*}: declared once, like every other key, with type,
 * default, validator and doc, and read through a {@link ConfigDef} of their own under the model's prefix, so
 * that an error names the full key ({@code model.m1.variant}) and a typo gets a "did you mean".
 * An empty value means the app-wide setting ({@code inference.*}).
 */
public final class ModelSettings {

    public static final String DIR = "dir";
    public static final String DEVICE = "device";
    public static final String VARIANT = "variant";

    /** The per-model keys, without their {@code model.NAME.} prefix. */
    static final ConfigDef DEFINITION = new ConfigDef()
            .define(DIR, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "The model's directory (model.onnx, tokenizer.json, config.json, reranker.json); required for every model named in models.")
            .define(DEVICE, Type.STRING, "", new DeviceValidator(), Importance.MEDIUM,
                    "This model's device: auto, cpu, cuda or cuda:N; empty = inference.device.")
            .define(VARIANT, Type.STRING, "", ConfigDef.ValidString.in("", "auto", "fp32", "fp16", "int8"), Importance.MEDIUM,
                    "This model's ONNX file: auto, fp32, fp16 or int8; empty = inference.model.variant.");

    private ModelSettings() {
    }

    /** {@code model.NAME.}: where a model's keys live. */
    public static String prefix(String model) {
        return RerankerConfig.MODEL_PREFIX + model + ".";
    }

    /** Every key model {@code model} may be given, with its prefix. */
    static Set<String> keys(String model) {
        Set<String> out = new TreeSet<>();
        for (String name : DEFINITION.names()) {
            out.add(prefix(model) + name);
        }
        return out;
    }

    /** The model's settings as a {@link ModelRegistry.Served}: its directory, and the app-wide options with its own on top. */
    static dev.kafkareranker.serving.ModelRegistry.Served served(String model, Map<String, ?> originals, InferenceOptions appWide) {
        AbstractConfig settings = new AbstractConfig(definition(model), originals, false);
        InferenceOptions options = appWide;
        String device = settings.getString(prefix(model) + DEVICE);
        if (!device.isBlank()) {
            options = options.withDevice(Device.parse(device));
        }
        String variant = settings.getString(prefix(model) + VARIANT);
        if (!variant.isBlank() && !variant.equals("auto")) {
            options = options.withVariant(Variant.valueOf(variant.toUpperCase(Locale.ROOT)));
        }
        return new dev.kafkareranker.serving.ModelRegistry.Served(model, Path.of(settings.getString(prefix(model) + DIR)), options);
    }

    /**
     * {@link #DEFINITION} under the model's prefix. Not {@link ConfigDef#embed}: its validators see the key without
     * the prefix, so an error would name {@code variant} instead of {@code model.legal.variant}.
     */
    private static ConfigDef definition(String model) {
        ConfigDef definition = new ConfigDef();
        for (ConfigDef.ConfigKey key : DEFINITION.configKeys().values()) {
            definition.define(prefix(model) + key.name, key.type, key.defaultValue, key.validator, key.importance, key.documentation);
        }
        return definition;
    }

    /** A device as {@link Device#parse} reads it, or empty. */
    private static final class DeviceValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || value.toString().isBlank()) {
                return;
            }
            try {
                Device.parse(value.toString());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, "expected auto, cpu, cuda or cuda:N (empty = inference.device)");
            }
        }

        @Override
        public String toString() {
            return "auto, cpu, cuda, cuda:N or empty";
        }
    }
}
