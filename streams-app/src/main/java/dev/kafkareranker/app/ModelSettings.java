package dev.kafkareranker.app;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.model.LongDocuments;
import dev.kafkareranker.model.ModelDirectory.Variant;
import dev.kafkareranker.model.ModelOverrides;
import dev.kafkareranker.serving.ModelRegistry;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
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
 * An empty value means the app-wide setting ({@code inference.*}), or for the document keys what the model's
 * reranker.json says. The single {@code model.dir} model takes the document keys as {@code model.KEY}.
 */
public final class ModelSettings {

    public static final String DIR = "dir";
    public static final String DEVICE = "device";
    public static final String VARIANT = "variant";
    public static final String MAX_LENGTH = "max.length";
    public static final String LONG_DOCUMENTS = "long.documents";
    public static final String CHUNK_STRIDE = "chunk.stride";
    public static final String MAX_CHUNKS = "max.chunks";
    public static final String CHUNK_POOLING = "chunk.pooling";
    public static final String MAX_DOCUMENT_TOKENS = "max.document.tokens";
    public static final String TRUNCATION_SIDE = "truncation.side";
    public static final String FIRST_STAGE = "first.stage";
    public static final String FIRST_STAGE_TOP_N = "first.stage.top.n";
    /**
     * Twice the default rank.top.k: the model then reorders every entry a default result shows and the ten below it,
     * which the first stage may have placed too low.
     */
    public static final int DEFAULT_FIRST_STAGE_TOP_N = 20;

    /** The keys about lengths and long documents: these the single model.dir model takes too, as model.KEY. */
    static final ConfigDef DOCUMENT_DEFINITION = new ConfigDef()
            .define(MAX_LENGTH, Type.INT, null, new NullOr(ConfigDef.Range.atLeast(1)), Importance.MEDIUM,
                    "Tokens per row, in place of reranker.json's max_length; at most what the model's files allow (tokenizer_config.json's model_max_length, config.json's positions), or the model is refused at load. Empty = reranker.json's, else the model's limit.")
            .define(LONG_DOCUMENTS, Type.STRING, "", ConfigDef.ValidString.in("", "truncate", "chunk"), Importance.MEDIUM,
                    "What is done with a passage longer than the room the query leaves in a row: truncate (cut, as transformers' truncation=True does) or chunk (cut into overlapping windows of that room, each scored with the query in the same batches as other rows, and the passage's score pooled from them: see README, Long documents). Empty = reranker.json's long_documents, else truncate.")
            .define(CHUNK_STRIDE, Type.INT, null, new NullOr(ConfigDef.Range.atLeast(0)), Importance.LOW,
                    "With chunk: tokens two neighbouring chunks share. Less than the smallest window a query leaves (half of the max length less the special tokens), or the model is refused at load. Empty = reranker.json's chunk_stride, else a quarter of the window.")
            .define(MAX_CHUNKS, Type.INT, null, new NullOr(ConfigDef.Range.atLeast(1)), Importance.LOW,
                    "With chunk: most chunks scored per passage; the rest of a longer passage is cut (and counted in its provenance, tokens_cut). Empty = reranker.json's max_chunks, else " + LongDocuments.DEFAULT_MAX_CHUNKS + ".")
            .define(CHUNK_POOLING, Type.STRING, "", ConfigDef.ValidString.in("", "max", "mean", "first"), Importance.LOW,
                    "With chunk: the passage's score from its chunks' scores: max (the best chunk's), mean, or first. Empty = reranker.json's chunk_pooling, else max.")
            .define(MAX_DOCUMENT_TOKENS, Type.INT, null, new NullOr(ConfigDef.Range.atLeast(1)), Importance.LOW,
                    "A passage's tokens (tokenized alone) beyond this many are cut before it is chunked or scored, from the side truncation.side names. Empty = reranker.json's max_document_tokens, else no cap.")
            .define(TRUNCATION_SIDE, Type.STRING, "", ConfigDef.ValidString.in("", "right", "left"), Importance.LOW,
                    "Which end of a text is cut: right keeps the start, left keeps the end (of the query and the passage, as transformers' truncation_side; with chunk, which chunks max.chunks keeps and which tokens max.document.tokens keeps). Empty = reranker.json's truncation_side, else tokenizer_config.json's, else right.");

    /** The per-model keys, without their {@code model.NAME.} prefix. */
    static final ConfigDef DEFINITION = definition(DOCUMENT_DEFINITION, "", new ConfigDef()
            .define(DIR, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "The model's directory (model.onnx, tokenizer.json, config.json, reranker.json); required for every model named in models.")
            .define(DEVICE, Type.STRING, "", new DeviceValidator(), Importance.MEDIUM,
                    "This model's device: auto, cpu, cuda or cuda:N; empty = inference.device.")
            .define(VARIANT, Type.STRING, "", ConfigDef.ValidString.in("", "auto", "fp32", "fp16", "int8"), Importance.MEDIUM,
                    "This model's ONNX file: auto, fp32, fp16 or int8; empty = inference.model.variant.")
            .define(FIRST_STAGE, Type.STRING, "", new ModelNameOrEmpty(), Importance.MEDIUM,
                    "Another served model (named in models, without a first stage of its own) that scores every candidate of this model's"
                            + " queries first; this model then scores only their top first.stage.top.n, and ranks them above the rest,"
                            + " which keep the first stage's score (each result entry names its stage). Empty = this model scores every candidate.")
            .define(FIRST_STAGE_TOP_N, Type.INT, null, new NullOr(ConfigDef.Range.atLeast(1)), Importance.MEDIUM,
                    "With first.stage: how many of a query's candidates, the best by the first stage's score, this model scores."
                            + " Empty = " + DEFAULT_FIRST_STAGE_TOP_N + "."));

    private ModelSettings() {
    }

    /** Where the single model.dir model's document keys live: {@code model.long.documents}. */
    static final String SINGLE_PREFIX = RerankerConfig.MODEL_PREFIX;

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

    /** The models named in {@code models}, each with its settings, their first stages checked ({@link #checkFirstStages}). */
    static List<ModelRegistry.Served> served(List<String> models, Map<String, ?> originals, InferenceOptions appWide) {
        List<ModelRegistry.Served> out = new java.util.ArrayList<>(models.size());
        for (String name : models) {
            out.add(served(name, originals, appWide));
        }
        checkFirstStages(out);
        return out;
    }

    /** The model's settings as a {@link ModelRegistry.Served}: its directory, and the app-wide options with its own on top. */
    static ModelRegistry.Served served(String model, Map<String, ?> originals, InferenceOptions appWide) {
        AbstractConfig settings = new AbstractConfig(definition(DEFINITION, prefix(model)), originals, false);
        InferenceOptions options = appWide;
        String device = settings.getString(prefix(model) + DEVICE);
        if (!device.isBlank()) {
            options = options.withDevice(Device.parse(device));
        }
        String variant = settings.getString(prefix(model) + VARIANT);
        if (!variant.isBlank() && !variant.equals("auto")) {
            options = options.withVariant(Variant.valueOf(variant.toUpperCase(Locale.ROOT)));
        }
        return new ModelRegistry.Served(model, Path.of(settings.getString(prefix(model) + DIR)), options,
                overrides(settings, prefix(model)), firstStage(settings, prefix(model)));
    }

    private static Optional<ModelRegistry.FirstStage> firstStage(AbstractConfig settings, String prefix) {
        String first = settings.getString(prefix + FIRST_STAGE).strip();
        Integer topN = settings.getInt(prefix + FIRST_STAGE_TOP_N);
        if (first.isEmpty()) {
            if (topN != null) {
                throw new ConfigException(prefix + FIRST_STAGE_TOP_N, topN, "only a model with a first stage takes it, and "
                        + prefix + FIRST_STAGE + " is empty: set it to the served model that should score every candidate first, or remove "
                        + prefix + FIRST_STAGE_TOP_N);
            }
            return Optional.empty();
        }
        return Optional.of(new ModelRegistry.FirstStage(first, topN != null ? topN : DEFAULT_FIRST_STAGE_TOP_N));
    }

    /**
     * Each first stage must be another served model without a first stage of its own: a cascade has two stages,
     * so chains (and with them cycles) are refused, naming both models' keys.
     */
    static void checkFirstStages(List<ModelRegistry.Served> served) {
        Map<String, ModelRegistry.Served> byName = new LinkedHashMap<>();
        served.forEach(m -> byName.put(m.name(), m));
        for (ModelRegistry.Served m : served) {
            if (m.firstStage().isEmpty()) {
                continue;
            }
            String key = prefix(m.name()) + FIRST_STAGE;
            String first = m.firstStage().get().model();
            ModelRegistry.Served stage = byName.get(first);
            if (first.equals(m.name())) {
                throw new ConfigException(key, first, "a model cannot be its own first stage; name another served model (served: "
                        + byName.keySet() + "), or leave it empty");
            }
            if (stage == null) {
                throw new ConfigException(key, first, "model '" + first + "' is not served (served: " + byName.keySet()
                        + "); name one of them, or add it to models with its " + prefix(first) + DIR);
            }
            if (stage.firstStage().isPresent()) {
                String next = stage.firstStage().get().model();
                throw new ConfigException(key, first, "model '" + first + "' has a first stage of its own (" + prefix(first) + FIRST_STAGE + "="
                        + next + (next.equals(m.name()) ? ": the two name each other" : "") + "), and a cascade has two stages;"
                        + " name a model without one, or clear " + prefix(first) + FIRST_STAGE);
            }
        }
    }

    /**
     * The single {@code model.dir} model's document keys, {@code model.KEY} beside {@code model.dir} (the model is
     * not named in the configuration, so it takes them without a name).
     */
    static ModelOverrides singleModel(Map<String, ?> originals) {
        return overrides(new AbstractConfig(definition(DOCUMENT_DEFINITION, SINGLE_PREFIX), originals, false), SINGLE_PREFIX);
    }

    /** {@code model.KEY} for each document key: what the single model.dir model may be given. */
    static Set<String> singleModelKeys() {
        Set<String> out = new TreeSet<>();
        for (String name : DOCUMENT_DEFINITION.names()) {
            out.add(SINGLE_PREFIX + name);
        }
        return out;
    }

    private static ModelOverrides overrides(AbstractConfig settings, String prefix) {
        return new ModelOverrides(prefix, optionalInt(settings.getInt(prefix + MAX_LENGTH)), text(settings.getString(prefix + LONG_DOCUMENTS)),
                optionalInt(settings.getInt(prefix + CHUNK_STRIDE)), optionalInt(settings.getInt(prefix + MAX_CHUNKS)),
                text(settings.getString(prefix + CHUNK_POOLING)), optionalInt(settings.getInt(prefix + MAX_DOCUMENT_TOKENS)),
                text(settings.getString(prefix + TRUNCATION_SIDE)));
    }

    private static OptionalInt optionalInt(Integer value) {
        return value == null ? OptionalInt.empty() : OptionalInt.of(value);
    }

    private static Optional<String> text(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }

    /**
     * {@code keys} under {@code prefix}. Not {@link ConfigDef#embed}: its validators see the key without
     * the prefix, so an error would name {@code variant} instead of {@code model.legal.variant}.
     */
    private static ConfigDef definition(ConfigDef keys, String prefix) {
        return definition(keys, prefix, new ConfigDef());
    }

    /** {@code keys} under {@code prefix}, added to {@code definition}. */
    private static ConfigDef definition(ConfigDef keys, String prefix, ConfigDef definition) {
        for (ConfigDef.ConfigKey key : keys.configKeys().values()) {
            definition.define(prefix + key.name, key.type, key.defaultValue, key.validator, key.importance, key.documentation);
        }
        return definition;
    }

    /** Empty (unset: reranker.json decides), or a value the wrapped validator accepts. */
    private static final class NullOr implements ConfigDef.Validator {
        private final ConfigDef.Validator validator;

        NullOr(ConfigDef.Validator validator) {
            this.validator = validator;
        }

        @Override
        public void ensureValid(String name, Object value) {
            if (value != null) {
                validator.ensureValid(name, value);
            }
        }

        @Override
        public String toString() {
            return validator + " or empty";
        }
    }

    /**
     * One model's name, or empty. Whether that model is served, and not a cascade itself, needs the other models' keys:
     * {@link #checkFirstStages}.
     */
    private static final class ModelNameOrEmpty implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value != null && (value.toString().contains(",") || value.toString().strip().chars().anyMatch(Character::isWhitespace))) {
                throw new ConfigException(name, value, "expected the name of one other model named in models (a cascade has one first stage), or empty");
            }
        }

        @Override
        public String toString() {
            return "another model named in models, or empty";
        }
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
