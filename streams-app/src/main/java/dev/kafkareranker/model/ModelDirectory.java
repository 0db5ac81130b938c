package dev.kafkareranker.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a model directory: {@code model.onnx} (or {@code onnx/model.onnx}) with optional
 * {@code model.fp16.onnx} / {@code model.int8.onnx} variants, {@code tokenizer.json}, HF {@code config.json},
 * optional {@code tokenizer_config.json}, and our {@code reranker.json} for what config.json cannot say.
 * The directory decides everything; nothing about a model is configured elsewhere.
 */
public final class ModelDirectory {

    public static final String RERANKER_JSON = "reranker.json";
    public static final String CONFIG_JSON = "config.json";
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
    /** Written by sentence-transformers; its CrossEncoder's activation (6.x). */
    static final String SENTENCE_TRANSFORMERS_CONFIG_JSON = "config_sentence_transformers.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(ModelDirectory.class);

    private ModelDirectory() {
    }

    /** Which ONNX file of a directory to load. */
    public enum Variant {
        FP32("model.onnx"), FP16("model.fp16.onnx"), INT8("model.int8.onnx");

        private final String fileName;

        Variant(String fileName) {
            this.fileName = fileName;
        }

        public String fileName() {
            return fileName;
        }
    }

    /** Loads the spec of the fp32 model in {@code dir}, as its files say. */
    public static ModelSpec load(Path dir) {
        return load(dir, ModelOverrides.NONE);
    }

    /** Loads the spec of the fp32 model in {@code dir}, with the app's per-model keys over reranker.json. */
    public static ModelSpec load(Path dir, ModelOverrides overrides) {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("Model directory " + dir + " does not exist or is not a directory");
        }
        Path model = modelFile(dir, Variant.FP32)
                .orElseThrow(() -> new ModelLoadException(dir + " has no model.onnx (nor onnx/model.onnx); export one with tools/ (python -m reranker_tools export)"));
        Path tokenizer = dir.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(tokenizer)) {
            throw new ModelLoadException(dir + " has no " + TOKENIZER_JSON + " (the HF fast tokenizer file; save_pretrained writes it)");
        }
        JsonNode reranker = readJson(dir.resolve(RERANKER_JSON));
        JsonNode config = readJson(dir.resolve(CONFIG_JSON));
        JsonNode tokenizerConfig = readJson(dir.resolve(TOKENIZER_CONFIG_JSON));
        if (reranker.isMissingNode() && config.isMissingNode()) {
            throw new ModelLoadException(dir + " has neither " + RERANKER_JSON + " nor " + CONFIG_JSON + ": one of them must say what the model is");
        }
        String rerankerFile = dir.resolve(RERANKER_JSON).toString();
        String configFile = dir.resolve(CONFIG_JSON).toString();

        ModelKind kind = ModelKind.parse(text(reranker, "kind").orElse("cross-encoder"), rerankerFile);
        boolean causalLm = kind == ModelKind.CAUSAL_LM;
        // A causal-lm graph returns the two label words' logits; config.json's id2label is generation's default.
        int numLabels = kind == ModelKind.BI_ENCODER ? 0 : causalLm ? 2 : numLabels(config);
        Activation activation = causalLm ? causalLmActivation(reranker, rerankerFile) : activation(reranker, config, numLabels, rerankerFile, dir);
        int labelIndex = causalLm ? 0 : labelIndex(reranker, numLabels, rerankerFile, configFile);
        long padId = padTokenId(reranker, config, tokenizer, kind, rerankerFile, configFile);
        checkVocabularyFits(tokenizer, config, configFile);
        ModelMaxLength.Resolved maxLength = ModelMaxLength.resolve(reranker, config, tokenizerConfig, dir, overrides);
        LongDocuments longDocuments = LongDocumentsSettings.resolve(reranker, tokenizerConfig, rerankerFile,
                dir.resolve(TOKENIZER_CONFIG_JSON).toString(), overrides);

        return new ModelSpec(
                text(reranker, "name").orElse(dir.getFileName().toString()),
                text(reranker, "version").orElse("unversioned"),
                kind,
                model,
                tokenizer,
                activation,
                labelIndex,
                numLabels,
                maxLength.value(),
                maxLength.source(),
                padId,
                padLeft(reranker, kind, rerankerFile),
                text(reranker, "query_template"),
                text(reranker, "document_template"),
                Pooling.parse(text(reranker, "pooling").orElse("cls"), rerankerFile),
                reranker.path("normalize").asBoolean(true),
                causalLm ? Optional.of(prompt(reranker, rerankerFile)) : Optional.empty(),
                longDocuments);
    }

    /** sigmoid(yes - no) is the softmax over the two words; any other activation would change what the score means. */
    private static Activation causalLmActivation(JsonNode reranker, String rerankerFile) {
        Optional<String> configured = text(reranker, "activation");
        if (configured.isPresent() && Activation.parse(configured.get(), rerankerFile) != Activation.SIGMOID) {
            throw new ModelLoadException(rerankerFile + ": activation '" + configured.get() + "' with kind causal-lm; its score is"
                    + " sigmoid(logit_yes - logit_no): remove activation or set it to sigmoid");
        }
        return Activation.SIGMOID;
    }

    private static boolean padLeft(JsonNode reranker, ModelKind kind, String rerankerFile) {
        Optional<Boolean> configured = text(reranker, "padding_side").map(side -> parsePaddingSide(side, rerankerFile));
        if (kind == ModelKind.CAUSAL_LM) {
            // The exported graph reads the last position, which is the last real token only with left padding.
            if (configured.isPresent() && !configured.get()) {
                throw new ModelLoadException(rerankerFile + ": padding_side 'right' with kind causal-lm; its graph reads the"
                        + " next-token logits at the last position, so padding must be on the left: set padding_side to left");
            }
            return true;
        }
        return configured.orElse(false);
    }

    private static CausalLmPrompt prompt(JsonNode reranker, String rerankerFile) {
        String template = text(reranker, "prompt_template").orElseThrow(() -> new ModelLoadException(rerankerFile
                + ": kind causal-lm needs prompt_template, the text with {query} and {document} that asks whether the"
                + " document answers the query (see README, 'causal-lm')"));
        for (String placeholder : new String[] {"{query}", "{document}"}) {
            if (!template.contains(placeholder)) {
                throw new ModelLoadException(rerankerFile + ": prompt_template '" + template + "' has no " + placeholder);
            }
        }
        List<String> words = new ArrayList<>();
        JsonNode labelWords = reranker.path("label_words");
        if (labelWords.isMissingNode() || labelWords.isNull()) {
            words.addAll(List.of("yes", "no"));
        } else {
            for (JsonNode word : labelWords) {
                words.add(word.asText());
            }
            if (!labelWords.isArray() || words.size() != 2 || words.stream().anyMatch(String::isEmpty)) {
                throw new ModelLoadException(rerankerFile + ": label_words " + labelWords
                        + " must be two words, the positive then the negative, e.g. [\"yes\", \"no\"]");
            }
        }
        Optional<List<Long>> ids = Optional.empty();
        JsonNode labelIds = reranker.path("label_token_ids");
        if (!labelIds.isMissingNode() && !labelIds.isNull()) {
            if (!labelIds.isArray() || labelIds.size() != 2) {
                throw new ModelLoadException(rerankerFile + ": label_token_ids " + labelIds + " must be two token ids");
            }
            ids = Optional.of(List.of(labelIds.get(0).asLong(), labelIds.get(1).asLong()));
        }
        return new CausalLmPrompt(
                reranker.path("prompt_prefix").asText(""), template, reranker.path("prompt_suffix").asText(""), words, ids);
    }

    /** The file of {@code variant} in {@code dir}, if the directory has it. */
    public static Optional<Path> modelFile(Path dir, Variant variant) {
        for (Path candidate : new Path[] {dir.resolve(variant.fileName()), dir.resolve("onnx").resolve(variant.fileName())}) {
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * Why the export judged {@code variant} unfit to serve, or empty when it did not: tools/ export records each
     * reduced-precision variant's parity check in reranker.json ({@code variants.fp16|int8.fit_to_serve}); a
     * directory without that record (not made by the export) has no verdict.
     */
    public static Optional<String> unfitToServe(Path dir, Variant variant) {
        if (variant == Variant.FP32) {
            return Optional.empty();  // the export fails outright when fp32 misses its tolerance
        }
        String name = variant.name().toLowerCase(java.util.Locale.ROOT);
        JsonNode verdict = readJson(dir.resolve(RERANKER_JSON)).path("variants").path(name);
        if (!verdict.path("fit_to_serve").isBoolean() || verdict.get("fit_to_serve").asBoolean()) {
            return Optional.empty();
        }
        return Optional.of(dir.resolve(RERANKER_JSON) + " records that " + variant.fileName() + " is not fit to serve: it differs from"
                + " PyTorch by " + verdict.path("max_abs_diff").asText("?") + ", more than its tolerance "
                + verdict.path("tolerance").asText("?") + " (variants." + name + ", written by the export's parity check)");
    }

    /** {@code variant}'s file as model.variant=auto may use it: empty when absent or judged unfit to serve (logged). */
    public static Optional<Path> autoVariantFile(String model, Path dir, Variant variant) {
        Optional<Path> file = modelFile(dir, variant);
        Optional<String> unfit = file.flatMap(f -> unfitToServe(dir, variant));
        if (unfit.isPresent()) {
            LOG.info("Model {}: model.variant=auto leaves out {}: {}", model, variant.fileName(), unfit.get());
            return Optional.empty();
        }
        return file;
    }

    /** {@code variant}'s file when a user asked for it by name: used even if judged unfit, with a warning that says so. */
    public static Path requestedVariantFile(String model, Path dir, Variant variant) {
        Path file = modelFile(dir, variant).orElseThrow(() -> new ModelLoadException("inference.model.variant="
                + variant.name().toLowerCase(java.util.Locale.ROOT) + " but " + dir + " has no " + variant.fileName()));
        unfitToServe(dir, variant).ifPresent(reason -> LOG.warn("Model {}: serving {} as asked (model.variant), although {}; "
                + "model.variant=auto would not use it", model, variant.fileName(), reason));
        return file;
    }

    private static int numLabels(JsonNode config) {
        if (config.has("num_labels")) {
            return config.get("num_labels").asInt();
        }
        JsonNode id2label = config.path("id2label");
        return id2label.isObject() && id2label.size() > 0 ? id2label.size() : 1;
    }

    /**
     * reranker.json's activation, else as sentence-transformers' CrossEncoder decides (6.x, in its order):
     * config_sentence_transformers.json's activation_fn, config.json's sentence_transformers.activation_fn
     * (4.x-5.x), config.json's sbert_ce_default_activation_function (before 4), else sigmoid for one label
     * and identity otherwise.
     */
    private static Activation activation(JsonNode reranker, JsonNode config, int numLabels, String rerankerFile, Path dir) {
        Optional<String> configured = text(reranker, "activation");
        if (configured.isPresent()) {
            return Activation.parse(configured.get(), rerankerFile);
        }
        Optional<String> st6 = text(readJson(dir.resolve(SENTENCE_TRANSFORMERS_CONFIG_JSON)), "activation_fn");
        if (st6.isPresent()) {
            return Activation.parse(st6.get(), SENTENCE_TRANSFORMERS_CONFIG_JSON);
        }
        Optional<String> st4 = text(config.path("sentence_transformers"), "activation_fn");
        if (st4.isPresent()) {
            return Activation.parse(st4.get(), CONFIG_JSON + " sentence_transformers.activation_fn");
        }
        Optional<String> sbert = text(config, "sbert_ce_default_activation_function");
        if (sbert.isPresent()) {
            return Activation.parse(sbert.get(), "config.json");
        }
        return numLabels == 1 ? Activation.SIGMOID : Activation.IDENTITY;
    }

    private static int labelIndex(JsonNode reranker, int numLabels, String rerankerFile, String configFile) {
        if (numLabels <= 1) {
            return 0;
        }
        if (!reranker.hasNonNull("label_index")) {
            throw new ModelLoadException("The model has " + numLabels + " labels (" + configFile + "); set label_index in "
                    + rerankerFile + " to the one that means relevant (for NLI heads, entailment)");
        }
        int index = reranker.get("label_index").asInt();
        if (index < 0 || index >= numLabels) {
            throw new ModelLoadException(rerankerFile + ": label_index " + index + " is outside 0.." + (numLabels - 1));
        }
        return index;
    }

    private static long padTokenId(JsonNode reranker, JsonNode config, Path tokenizer, ModelKind kind,
                                   String rerankerFile, String configFile) {
        if (reranker.hasNonNull("pad_token_id")) {
            return reranker.get("pad_token_id").asLong();
        }
        if (config.hasNonNull("pad_token_id")) {
            return config.get("pad_token_id").asLong();
        }
        if (kind == ModelKind.DECODER) {
            // The head finds the last real token by looking for the pad id, so guessing one would
            // silently score the wrong position.
            throw new ModelLoadException("Decoder model has no pad id: set pad_token_id in " + rerankerFile + " or " + configFile
                    + " (RankLLaMA-style exports use the tokenizer's unk or eos id)");
        }
        JsonNode tokenizerJson = readJson(tokenizer);
        JsonNode padding = tokenizerJson.path("padding");
        if (padding.hasNonNull("pad_id")) {
            return padding.get("pad_id").asLong();
        }
        for (JsonNode added : tokenizerJson.path("added_tokens")) {
            String content = added.path("content").asText();
            if (content.equals("[PAD]") || content.equals("<pad>")) {
                return added.path("id").asLong();
            }
        }
        throw new ModelLoadException("No pad id found: set pad_token_id in " + rerankerFile + " or " + configFile);
    }

    private static void checkVocabularyFits(Path tokenizer, JsonNode config, String configFile) {
        if (!config.hasNonNull("vocab_size")) {
            return;
        }
        long vocabSize = config.get("vocab_size").asLong();
        long maxId = maxTokenId(readJson(tokenizer));
        if (maxId >= vocabSize) {
            throw new ModelLoadException("The tokenizer (" + tokenizer + ") has token ids up to " + maxId
                    + " but the model's embeddings hold " + vocabSize + " (vocab_size in " + configFile
                    + "): the tokenizer does not belong to this model");
        }
    }

    private static long maxTokenId(JsonNode tokenizerJson) {
        long max = -1;
        JsonNode vocab = tokenizerJson.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                max = Math.max(max, it.next().getValue().asLong());
            }
        } else if (vocab.isArray()) {
            // Unigram vocabularies are [piece, score] lists whose index is the id.
            max = vocab.size() - 1;
        }
        for (JsonNode added : tokenizerJson.path("added_tokens")) {
            max = Math.max(max, added.path("id").asLong());
        }
        return max;
    }

    private static boolean parsePaddingSide(String side, String file) {
        return switch (side) {
            case "left" -> true;
            case "right" -> false;
            default -> throw new ModelLoadException(file + ": padding_side '" + side + "' is not left or right");
        };
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() && !value.asText().isEmpty() ? Optional.of(value.asText()) : Optional.empty();
    }

    static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            return MissingNode.getInstance();
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException(file + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
