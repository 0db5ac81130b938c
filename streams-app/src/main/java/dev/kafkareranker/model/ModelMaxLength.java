package dev.kafkareranker.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The longest encoding a model directory's files allow, with no library default in between, and where
 * it came from (for the start-up log).
 *
 * <p>The tokenizer's limit is tokenizer_config.json's {@code model_max_length} (its "no limit" marker
 * ignored), unless the directory carries a sentence-transformers module config
 * ({@code sentence_bert_config.json}, or one of its older per-architecture names): sentence-transformers
 * then hands its {@code tokenizer_args}/{@code processor_kwargs} {@code model_max_length}, else its
 * {@code max_seq_length}, to the tokenizer in place of tokenizer_config.json's (all-MiniLM-L6-v2: 256, while its
 * tokenizer says 512), and this reads the same. The model's limit is config.json's positions, less the
 * RoBERTa-family offset. The smaller of the two is the length; reranker.json's {@code max_length} may lower
 * it, and asking for more than the model holds is an error, not a silent cut.
 */
final class ModelMaxLength {

    /** model_type values whose position ids start after the pad id, so max positions overstate the length. */
    private static final Set<String> OFFSET_POSITION_MODELS = Set.of("roberta", "xlm-roberta", "xlm-roberta-xl", "camembert",
            "longformer", "data2vec-text", "roberta-prelayernorm", "mpnet", "ibert", "luke", "markuplm");
    /** tokenizer_config.json writes this huge number when it knows no limit. */
    private static final long NO_TOKENIZER_LIMIT = 1_000_000L;
    /** The file names sentence-transformers' Transformer module reads its config from, in its order. */
    static final List<String> SENTENCE_TRANSFORMERS_CONFIGS = List.of("sentence_bert_config.json", "sentence_roberta_config.json",
            "sentence_distilbert_config.json", "sentence_camembert_config.json", "sentence_albert_config.json",
            "sentence_xlm-roberta_config.json", "sentence_xlnet_config.json");

    /** A length and the file and setting it came from. */
    record Resolved(int value, String source) {}

    private ModelMaxLength() {
    }

    static Resolved resolve(JsonNode reranker, JsonNode config, JsonNode tokenizerConfig, Path dir) {
        return resolve(reranker, config, tokenizerConfig, dir, ModelOverrides.NONE);
    }

    /** With the app's {@code max.length} key, when given, in place of reranker.json's {@code max_length}. */
    static Resolved resolve(JsonNode reranker, JsonNode config, JsonNode tokenizerConfig, Path dir, ModelOverrides overrides) {
        long modelLimit = Long.MAX_VALUE;
        String modelLimitSource = null;
        List<String> sources = new ArrayList<>();
        Limit tokenizer = sentenceTransformersLength(dir, tokenizerConfig);
        if (tokenizer == null && tokenizerConfig.hasNonNull("model_max_length")) {
            long value = tokenizerConfig.get("model_max_length").asLong(Long.MAX_VALUE);
            tokenizer = new Limit(value, ModelDirectory.TOKENIZER_CONFIG_JSON + " model_max_length " + value);
        }
        if (tokenizer != null) {
            if (tokenizer.value() < NO_TOKENIZER_LIMIT) {
                modelLimit = tokenizer.value();
                modelLimitSource = tokenizer.source();
                sources.add(modelLimitSource);
            } else {
                sources.add(ModelDirectory.TOKENIZER_CONFIG_JSON + " model_max_length (no limit: ignored)");
            }
        }
        if (config.hasNonNull("max_position_embeddings")) {
            long table = config.get("max_position_embeddings").asLong();
            long positions = table;
            String type = config.path("model_type").asText("").toLowerCase(Locale.ROOT);
            String source = ModelDirectory.CONFIG_JSON + " max_position_embeddings " + table;
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
        if (overrides.maxLength().isPresent()) {
            long configured = overrides.maxLength().getAsInt();
            String key = overrides.key("max_length");
            if (configured > modelLimit) {
                throw new ModelLoadException(key + "=" + configured + " is more than the model in " + dir + " can take (" + modelLimit
                        + ", from " + modelLimitSource + "); set " + key + " to at most " + modelLimit + " or remove it");
            }
            return new Resolved((int) configured, key + " " + configured + "; model limits: "
                    + (sources.isEmpty() ? "none stated" : String.join(", ", sources)));
        }
        if (reranker.hasNonNull("max_length")) {
            long configured = reranker.get("max_length").asLong();
            String file = dir.resolve(ModelDirectory.RERANKER_JSON).toString();
            if (configured < 1) {
                throw new ModelLoadException(file + ": max_length " + configured + " must be at least 1");
            }
            if (configured > modelLimit) {
                throw new ModelLoadException(file + ": max_length " + configured + " is more than the model can take ("
                        + modelLimit + ", from " + modelLimitSource + "); lower max_length in " + ModelDirectory.RERANKER_JSON
                        + " to at most " + modelLimit + " or remove it");
            }
            return new Resolved((int) configured, ModelDirectory.RERANKER_JSON + " max_length " + configured + "; model limits: "
                    + (sources.isEmpty() ? "none stated" : String.join(", ", sources)));
        }
        if (modelLimit == Long.MAX_VALUE) {
            throw new ModelLoadException(dir + ": no maximum length is known (neither " + ModelDirectory.TOKENIZER_CONFIG_JSON
                    + " model_max_length nor " + ModelDirectory.CONFIG_JSON + " max_position_embeddings); set max_length in "
                    + ModelDirectory.RERANKER_JSON);
        }
        if (modelLimit > Integer.MAX_VALUE) {
            throw new ModelLoadException(dir + ": maximum length " + modelLimit + " (" + modelLimitSource
                    + ") is not a usable length; set max_length in " + ModelDirectory.RERANKER_JSON);
        }
        return new Resolved((int) modelLimit, modelLimitSource + "; model limits: " + String.join(", ", sources));
    }

    private record Limit(long value, String source) {}

    /**
     * The tokenizer length a sentence-transformers module config in {@code dir} sets, as sentence-transformers'
     * Transformer module applies it: its tokenizer (processor) arguments' model_max_length first, else
     * max_seq_length; null when there is no such file or it sets neither.
     */
    private static Limit sentenceTransformersLength(Path dir, JsonNode tokenizerConfig) {
        for (String name : SENTENCE_TRANSFORMERS_CONFIGS) {
            JsonNode st = ModelDirectory.readJson(dir.resolve(name));
            if (st.isMissingNode()) {
                continue;
            }
            String instead = tokenizerConfig.hasNonNull("model_max_length")
                    ? " (used by sentence-transformers instead of " + ModelDirectory.TOKENIZER_CONFIG_JSON + "'s "
                    + tokenizerConfig.get("model_max_length").asText() + ")" : "";
            for (String args : List.of("processor_kwargs", "tokenizer_args")) {
                JsonNode length = st.path(args).path("model_max_length");
                if (length.canConvertToLong()) {
                    return new Limit(length.asLong(), name + " " + args + ".model_max_length " + length.asLong() + instead);
                }
            }
            JsonNode length = st.path("max_seq_length");
            if (length.canConvertToLong()) {
                return new Limit(length.asLong(), name + " max_seq_length " + length.asLong() + instead);
            }
            return null;  // the first of these files is the one sentence-transformers reads
        }
        return null;
    }
}
