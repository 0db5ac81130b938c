package dev.kafkareranker.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kafkareranker.model.LongDocuments.ChunkPooling;
import dev.kafkareranker.model.LongDocuments.Mode;
import dev.kafkareranker.model.LongDocuments.TruncationSide;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads a model's long-document settings: the app's per-model key first, then reranker.json, then the default
 * ({@code truncation_side} also from tokenizer_config.json, which is where transformers reads it). Settings that
 * contradict each other are refused here, in one line naming the keys; the one check that needs the tokenizer
 * (a stride smaller than the window) is made when the model's scoring method is built.
 */
final class LongDocumentsSettings {

    static final String LONG_DOCUMENTS = "long_documents";
    static final String CHUNK_STRIDE = "chunk_stride";
    static final String MAX_CHUNKS = "max_chunks";
    static final String CHUNK_POOLING = "chunk_pooling";
    static final String MAX_DOCUMENT_TOKENS = "max_document_tokens";
    static final String TRUNCATION_SIDE = "truncation_side";

    private final JsonNode reranker;
    private final String rerankerFile;
    private final ModelOverrides overrides;
    private final Map<String, String> sources = new HashMap<>();

    private LongDocumentsSettings(JsonNode reranker, String rerankerFile, ModelOverrides overrides) {
        this.reranker = reranker;
        this.rerankerFile = rerankerFile;
        this.overrides = overrides;
    }

    static LongDocuments resolve(JsonNode reranker, JsonNode tokenizerConfig, String rerankerFile, String tokenizerConfigFile,
                                 ModelOverrides overrides) {
        return new LongDocumentsSettings(reranker, rerankerFile, overrides).resolve(tokenizerConfig, tokenizerConfigFile);
    }

    private LongDocuments resolve(JsonNode tokenizerConfig, String tokenizerConfigFile) {
        Mode mode = choice(LONG_DOCUMENTS, overrides.longDocuments(), Mode.class, Mode.TRUNCATE);
        OptionalInt stride = number(CHUNK_STRIDE, overrides.chunkStride(), 0);
        int maxChunks = number(MAX_CHUNKS, overrides.maxChunks(), 1).orElse(LongDocuments.DEFAULT_MAX_CHUNKS);
        ChunkPooling pooling = choice(CHUNK_POOLING, overrides.chunkPooling(), ChunkPooling.class, ChunkPooling.MAX);
        OptionalInt maxDocumentTokens = number(MAX_DOCUMENT_TOKENS, overrides.maxDocumentTokens(), 1);
        TruncationSide side;
        if (overrides.truncationSide().isEmpty() && !reranker.hasNonNull(TRUNCATION_SIDE) && tokenizerConfig.hasNonNull(TRUNCATION_SIDE)) {
            // transformers' tokenizers cut on the side tokenizer_config.json names; the reference scores were made so.
            side = parse(tokenizerConfig.get(TRUNCATION_SIDE).asText(), TruncationSide.class, tokenizerConfigFile + " " + TRUNCATION_SIDE);
            sources.put(TRUNCATION_SIDE, tokenizerConfigFile + " " + TRUNCATION_SIDE);
        } else {
            side = choice(TRUNCATION_SIDE, overrides.truncationSide(), TruncationSide.class, TruncationSide.RIGHT);
        }
        if (mode == Mode.TRUNCATE) {
            refuseDormantChunkSettings();
        }
        return new LongDocuments(mode, stride, maxChunks, pooling, maxDocumentTokens, side, sources);
    }

    /**
     * Chunk settings with {@code long_documents=truncate} would be silently ignored: refused, unless the app's
     * key turned chunking off on purpose over a reranker.json that chunks (its chunk settings then wait unused).
     */
    private void refuseDormantChunkSettings() {
        String modeSource = source(LONG_DOCUMENTS);
        for (String key : new String[] {CHUNK_STRIDE, MAX_CHUNKS, CHUNK_POOLING}) {
            boolean fromApp = sources.getOrDefault(key, "").equals(overrides.key(key));
            boolean fromFile = sources.getOrDefault(key, "").startsWith(rerankerFile) && overrides.longDocuments().isEmpty();
            if (fromApp || fromFile) {
                throw new ModelLoadException(source(key) + " is set but long documents are truncated (" + modeSource + "), so it"
                        + " would be ignored: set " + (fromApp ? overrides.key(LONG_DOCUMENTS) + "=chunk" : LONG_DOCUMENTS + " to \"chunk\" in "
                        + rerankerFile) + ", or remove " + source(key));
            }
        }
    }

    private String source(String key) {
        return sources.getOrDefault(key, LONG_DOCUMENTS.equals(key) ? "long_documents unset: truncate" : key + " (default)");
    }

    private <E extends Enum<E>> E choice(String key, Optional<String> override, Class<E> type, E fallback) {
        if (override.isPresent()) {
            sources.put(key, overrides.key(key));
            return parse(override.get(), type, overrides.key(key));
        }
        JsonNode value = reranker.path(key);
        if (value.isMissingNode() || value.isNull()) {
            return fallback;
        }
        sources.put(key, rerankerFile + " " + key);
        return parse(value.asText(), type, rerankerFile + " " + key);
    }

    private static <E extends Enum<E>> E parse(String value, Class<E> type, String where) {
        StringBuilder allowed = new StringBuilder();
        for (E constant : type.getEnumConstants()) {
            String name = constant.name().toLowerCase(Locale.ROOT);
            if (name.equals(value)) {
                return constant;
            }
            allowed.append(allowed.length() == 0 ? "" : ", ").append(name);
        }
        throw new ModelLoadException(where + " is '" + value + "'; expected one of " + allowed);
    }

    private OptionalInt number(String key, OptionalInt override, int min) {
        if (override.isPresent()) {
            sources.put(key, overrides.key(key));
            return override;  // the app's ConfigDef already checked its range
        }
        JsonNode value = reranker.path(key);
        if (value.isMissingNode() || value.isNull()) {
            return OptionalInt.empty();
        }
        String where = rerankerFile + " " + key;
        if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < min) {
            throw new ModelLoadException(where + " is " + value + "; expected a whole number of at least " + min);
        }
        sources.put(key, where);
        return OptionalInt.of(value.asInt());
    }
}
