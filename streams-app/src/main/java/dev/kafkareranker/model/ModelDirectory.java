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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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

    /** model_type values whose position ids start after the pad id, so max positions overstate the length. */
    private static final Set<String> OFFSET_POSITION_MODELS = Set.of("roberta", "xlm-roberta", "xlm-roberta-xl", "camembert",
            "longformer", "data2vec-text", "roberta-prelayernorm", "mpnet", "ibert", "luke", "markuplm");
    /** tokenizer_config.json writes this huge number when it knows no limit. */
    private static final long NO_TOKENIZER_LIMIT = 1_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /** Loads the spec of the fp32 model in {@code dir}. */
    public static ModelSpec load(Path dir) {
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
        Activation activation = causalLm ? causalLmActivation(reranker, rerankerFile) : activation(reranker, config, numLabels, rerankerFile);
        int labelIndex = causalLm ? 0 : labelIndex(reranker, numLabels, rerankerFile, configFile);
        long padId = padTokenId(reranker, config, tokenizer, kind, rerankerFile, configFile);
        checkVocabularyFits(tokenizer, config, configFile);
        MaxLength maxLength = maxLength(reranker, config, tokenizerConfig, dir);

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
                causalLm ? Optional.of(prompt(reranker, rerankerFile)) : Optional.empty());
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

    private static int numLabels(JsonNode config) {
        if (config.has("num_labels")) {
            return config.get("num_labels").asInt();
        }
        JsonNode id2label = config.path("id2label");
        return id2label.isObject() && id2label.size() > 0 ? id2label.size() : 1;
    }

    /** As sentence-transformers' CrossEncoder: the configured function, else sigmoid for one label, identity otherwise. */
    private static Activation activation(JsonNode reranker, JsonNode config, int numLabels, String rerankerFile) {
        Optional<String> configured = text(reranker, "activation");
        if (configured.isPresent()) {
            return Activation.parse(configured.get(), rerankerFile);
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

    /**
     * The longest encoding the model can take, with no library default in between: the smallest of
     * tokenizer_config.json's model_max_length (its "no limit" marker ignored) and config.json's
     * positions (less the RoBERTa-family offset). reranker.json's max_length may lower it; asking for
     * more than the model holds is an error, not a silent cut.
     */
    private static MaxLength maxLength(JsonNode reranker, JsonNode config, JsonNode tokenizerConfig, Path dir) {
        long modelLimit = Long.MAX_VALUE;
        String modelLimitSource = null;
        List<String> sources = new ArrayList<>();
        long tokenizerMax = tokenizerConfig.path("model_max_length").asLong(Long.MAX_VALUE);
        if (tokenizerConfig.hasNonNull("model_max_length")) {
            if (tokenizerMax < NO_TOKENIZER_LIMIT) {
                modelLimit = tokenizerMax;
                modelLimitSource = TOKENIZER_CONFIG_JSON + " model_max_length " + tokenizerMax;
                sources.add(modelLimitSource);
            } else {
                sources.add(TOKENIZER_CONFIG_JSON + " model_max_length (no limit: ignored)");
            }
        }
        if (config.hasNonNull("max_position_embeddings")) {
            long table = config.get("max_position_embeddings").asLong();
            long positions = table;
            String type = config.path("model_type").asText("").toLowerCase(Locale.ROOT);
            String source = CONFIG_JSON + " max_position_embeddings " + table;
            if (OFFSET_POSITION_MODELS.contains(type)) {
                // transformers' create_position_ids_from_input_ids: real positions start at
                // padding_idx + 1, so the table holds pad_token_id + 1 fewer tokens.
                long padId = config.path("pad_token_id").asLong(1);
                positions -= padId + 1;
                source += " - (pad_token_id " + padId + " + 1) for " + type + " = " + positions;
            }
            sources.add(source);
            if (positions < modelLimit) {
                modelLimit = positions;
                modelLimitSource = source;
            }
        }
        if (reranker.hasNonNull("max_length")) {
            long configured = reranker.get("max_length").asLong();
            String file = dir.resolve(RERANKER_JSON).toString();
            if (configured < 1) {
                throw new ModelLoadException(file + ": max_length " + configured + " must be at least 1");
            }
            if (configured > modelLimit) {
                throw new ModelLoadException(file + ": max_length " + configured + " is more than the model can take ("
                        + modelLimit + ", from " + modelLimitSource + "); lower max_length in " + RERANKER_JSON
                        + " to at most " + modelLimit + " or remove it");
            }
            return new MaxLength((int) configured, RERANKER_JSON + " max_length " + configured + "; model limits: "
                    + (sources.isEmpty() ? "none stated" : String.join(", ", sources)));
        }
        if (modelLimit == Long.MAX_VALUE) {
            throw new ModelLoadException(dir + ": no maximum length is known (neither " + TOKENIZER_CONFIG_JSON
                    + " model_max_length nor " + CONFIG_JSON + " max_position_embeddings); set max_length in " + RERANKER_JSON);
        }
        if (modelLimit > Integer.MAX_VALUE) {
            throw new ModelLoadException(dir + ": maximum length " + modelLimit + " (" + modelLimitSource
                    + ") is not a usable length; set max_length in " + RERANKER_JSON);
        }
        return new MaxLength((int) modelLimit, modelLimitSource + "; model limits: " + String.join(", ", sources));
    }

    /** A length and the file and setting it came from, for the start-up log. */
    private record MaxLength(int value, String source) {}

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
