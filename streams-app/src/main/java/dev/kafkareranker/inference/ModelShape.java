package dev.kafkareranker.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The sizes of a transformer that decide how much memory one batch takes, as the model's HF
 * {@code config.json} states them. Only what the memory estimate needs; nothing here is used to run the model.
 *
 * @param layers       transformer layers (they run one after another, so their activations are not live at once)
 * @param hidden       hidden size
 * @param heads        attention (query) heads: the score tensor has one L × L plane per head, whatever the KV heads
 * @param intermediate feed-forward width
 * @param vocab        vocabulary size (0 when unknown): a graph may return next-token logits over it
 * @param source       the file the sizes came from, for log lines
 */
public record ModelShape(int layers, int hidden, int heads, int intermediate, int vocab, String source) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelShape {
        if (layers < 1 || hidden < 1 || heads < 1 || intermediate < 1 || vocab < 0) {
            throw new IllegalArgumentException("model shape needs positive sizes, not layers " + layers + ", hidden " + hidden
                    + ", heads " + heads + ", intermediate " + intermediate + ", vocab " + vocab + " (" + source + ")");
        }
    }

    /**
     * The shape stated in {@code config.json}, or empty when the file is absent or lacks the hidden size or the
     * head count (the planner then bounds batches by tokens alone). Key names differ between families
     * (BERT/LLaMA: hidden_size, GPT-2: n_embd, DistilBERT: dim); each list below is checked in order.
     */
    public static Optional<ModelShape> read(Path configJson) {
        if (!Files.isRegularFile(configJson)) {
            return Optional.empty();
        }
        JsonNode config;
        try {
            config = JSON.readTree(configJson.toFile());
        } catch (IOException e) {
            return Optional.empty();
        }
        // Multimodal and some decoder configs keep the language model's sizes under text_config.
        if (!config.has("hidden_size") && config.path("text_config").isObject()) {
            config = config.get("text_config");
        }
        int hidden = first(config, "hidden_size", "d_model", "n_embd", "dim");
        int heads = first(config, "num_attention_heads", "n_head", "n_heads", "encoder_attention_heads");
        if (hidden <= 0 || heads <= 0) {
            return Optional.empty();
        }
        int layers = Math.max(1, first(config, "num_hidden_layers", "n_layer", "n_layers", "encoder_layers"));
        int intermediate = first(config, "intermediate_size", "n_inner", "hidden_dim", "ffn_dim", "encoder_ffn_dim");
        // transformers' own default where a config leaves the feed-forward width out (GPT-2's n_inner: null).
        intermediate = intermediate > 0 ? intermediate : 4 * hidden;
        int vocab = Math.max(0, first(config, "vocab_size", "n_vocab"));
        return Optional.of(new ModelShape(layers, hidden, heads, intermediate, vocab, configJson.toString()));
    }

    private static int first(JsonNode config, String... keys) {
        for (String key : keys) {
            JsonNode value = config.path(key);
            if (value.canConvertToInt() && value.asInt() > 0) {
                return value.asInt();
            }
        }
        return 0;
    }
}
