package dev.kafkareranker.model;

import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a model does with a passage longer than the room its window leaves for it: cut it (the default, as
 * every peer server does) or score it in overlapping chunks and pool the chunks' scores. Resolved once per
 * model version from reranker.json and the app's per-model keys ({@link ModelOverrides}); the window
 * arithmetic itself needs the tokenizer and lives in the inference package.
 *
 * @param mode              truncate or chunk
 * @param chunkStride       tokens two neighbouring chunks share; empty = a quarter of the window
 * @param maxChunks         most chunks scored per passage; the passage's later (or, cut from the left, earlier) part is cut
 * @param pooling           how chunk scores become the passage's score
 * @param maxDocumentTokens a cap on a passage's tokens applied before it is chunked or scored; empty = none
 * @param side              which end of a text is cut: the query's and the passage's in a pair, and which chunks
 *                          {@code max_chunks} keeps
 * @param sources           per reranker.json key, where the value came from ({@code reranker.json chunk_stride},
 *                          {@code model.legal.chunk.stride}), for error messages
 */
public record LongDocuments(Mode mode, OptionalInt chunkStride, int maxChunks, ChunkPooling pooling,
                            OptionalInt maxDocumentTokens, TruncationSide side, Map<String, String> sources) {

    /**
     * Enough for a passage of about six windows of text at the default stride (a 512-token model: some 5,000
     * tokens), while one pathological passage costs at most this many rows.
     */
    public static final int DEFAULT_MAX_CHUNKS = 16;

    /** Today's behaviour for every model that says nothing: cut at the right, longest text first. */
    public static final LongDocuments TRUNCATE = new LongDocuments(Mode.TRUNCATE, OptionalInt.empty(), DEFAULT_MAX_CHUNKS,
            ChunkPooling.MAX, OptionalInt.empty(), TruncationSide.RIGHT, Map.of());

    public LongDocuments {
        sources = Map.copyOf(sources);
    }

    /** Where {@code key} (a reranker.json name such as {@code chunk_stride}) was set, for an error message. */
    public String source(String key) {
        return sources.getOrDefault(key, key + " (default)");
    }

    public boolean chunked() {
        return mode == Mode.CHUNK;
    }

    /** One line for the start-up log. */
    public String describe() {
        if (mode == Mode.TRUNCATE) {
            return "long documents truncated (" + side.configName() + ")"
                    + maxDocumentTokens.stream().mapToObj(m -> ", at most " + m + " document tokens").findFirst().orElse("");
        }
        return "long documents chunked: stride " + (chunkStride.isPresent() ? chunkStride.getAsInt() + " tokens" : "a quarter of the window")
                + ", at most " + maxChunks + " chunks, pooled by " + pooling.configName() + ", cut from the " + side.configName()
                + maxDocumentTokens.stream().mapToObj(m -> ", at most " + m + " document tokens").findFirst().orElse("");
    }

    /** reranker.json {@code long_documents}. */
    public enum Mode {
        TRUNCATE, CHUNK;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** reranker.json {@code chunk_pooling}: the passage's score from its chunks' scores. */
    public enum ChunkPooling {
        /** The best chunk's score and logit: a passage is as relevant as its most relevant part. */
        MAX,
        /** The mean of the chunks' scores and, apart, of their logits. */
        MEAN,
        /** The first chunk's (the passage's start, or of the chunks kept): "truncate, but report what was cut". */
        FIRST;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** reranker.json {@code truncation_side}, as transformers' tokenizer {@code truncation_side}. */
    public enum TruncationSide {
        RIGHT, LEFT;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
