package dev.kafkareranker.model;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The app's per-model keys that replace what a model directory's reranker.json says about lengths and long
 * documents ({@code model.NAME.long.documents}, ...; {@code model.long.documents} for the single
 * {@code model.dir} model). Each value was already checked alone by the app's ConfigDef; how they combine
 * with reranker.json is checked when the directory is read ({@link ModelDirectory#load(java.nio.file.Path, ModelOverrides)}).
 *
 * @param keyPrefix         the prefix the keys were given under ({@code model.legal.}), for error messages
 * @param maxLength         {@code max.length}: replaces reranker.json {@code max_length}
 * @param longDocuments     {@code long.documents}: truncate or chunk
 * @param chunkStride       {@code chunk.stride}
 * @param maxChunks         {@code max.chunks}
 * @param chunkPooling      {@code chunk.pooling}: max, mean or first
 * @param maxDocumentTokens {@code max.document.tokens}
 * @param truncationSide    {@code truncation.side}: right or left
 */
public record ModelOverrides(String keyPrefix, OptionalInt maxLength, Optional<String> longDocuments, OptionalInt chunkStride,
                             OptionalInt maxChunks, Optional<String> chunkPooling, OptionalInt maxDocumentTokens,
                             Optional<String> truncationSide) {

    /** Nothing overridden: the directory decides. */
    public static final ModelOverrides NONE = new ModelOverrides("model.", OptionalInt.empty(), Optional.empty(), OptionalInt.empty(),
            OptionalInt.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty());

    /** The app's key for a reranker.json key: {@code chunk_stride} becomes {@code model.legal.chunk.stride}. */
    public String key(String rerankerJsonKey) {
        return keyPrefix + rerankerJsonKey.replace('_', '.');
    }

    /** Whether any chunk setting (stride, count, pooling) is given here. */
    boolean setsChunking() {
        return chunkStride.isPresent() || maxChunks.isPresent() || chunkPooling.isPresent();
    }
}
