package dev.kafkareranker.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.model.LongDocuments.TruncationSide;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes as the model was trained: the model's own tokenizer.json, its special tokens, and
 * truncation to the model's maximum length, longest-first over a pair as HF {@code truncation=True}
 * does, from the side the model's {@code truncation_side} names. Padding is left to {@link TokenBatch},
 * which pads each batch only to its own longest row.
 *
 * <p>A second tokenizer of the same file never truncates: it reads passages alone (their token offsets are
 * what long passages are cut into windows by, and what a score's provenance counts) and causal-lm prompt
 * bodies, which are cut here rather than by the tokenizer so that the cut can be seen.
 */
final class TextEncoder implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final HuggingFaceTokenizer whole;
    private final int maxLength;

    TextEncoder(ModelSpec spec) {
        this.maxLength = spec.maxLength();
        byte[] truncating = tokenizerJson(spec, spec.maxLength());
        byte[] untruncated = tokenizerJson(spec, 0);
        tokenizer = open(spec, truncating, Map.of(
                "truncation", "true",
                "maxLength", Integer.toString(maxLength),
                // DJL defaults modelMaxLength to 512 and lowers any larger maxLength to it with only
                // a warning; the directory already decided the model's limit (ModelDirectory).
                "modelMaxLength", Integer.toString(maxLength)));
        try {
            whole = open(spec, untruncated, Map.of("truncation", "false"));
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        if (tokenizer.getMaxLength() != maxLength) {
            // Any other library default that shortens encodings must fail here, not cut text silently.
            int actual = tokenizer.getMaxLength();
            close();
            throw new ModelLoadException("The tokenizer " + spec.tokenizerFile() + " truncates at " + actual
                    + " tokens but the model directory asks for " + maxLength + " (" + spec.maxLengthSource() + ")");
        }
    }

    /**
     * The model's tokenizer.json with the truncation this encoder wants written into it. DJL's truncation options
     * set the length and strategy but not the direction, and keep the direction of a truncation the file already
     * has: so the direction is written here, and a file that carries one of its own cannot cut from a side
     * nobody asked for. Padding stays {@link TokenBatch}'s.
     *
     * @param length 0 for no truncation
     */
    private static byte[] tokenizerJson(ModelSpec spec, int length) {
        try {
            ObjectNode json = (ObjectNode) JSON.readTree(spec.tokenizerFile().toFile());
            json.putNull("padding");
            if (length == 0) {
                json.putNull("truncation");
            } else {
                ObjectNode truncation = json.putObject("truncation");
                truncation.put("direction", spec.longDocuments().side() == TruncationSide.LEFT ? "Left" : "Right");
                truncation.put("max_length", length);
                truncation.put("strategy", "LongestFirst");
                truncation.put("stride", 0);
            }
            return JSON.writeValueAsBytes(json);
        } catch (IOException | ClassCastException e) {
            throw new ModelLoadException("Cannot read the tokenizer " + spec.tokenizerFile() + ": " + e.getMessage(), e);
        }
    }

    private static HuggingFaceTokenizer open(ModelSpec spec, byte[] json, Map<String, String> truncation) {
        Map<String, String> options = new java.util.HashMap<>(truncation);
        options.put("addSpecialTokens", "true");
        options.put("padding", "false");
        // DJL applies tokenizer_config.json's add_prefix_space and strip_accents itself, in Java,
        // before single-text encodes (not batch ones, not pairs): a second prefix space, and
        // NFKD where the normalizer in tokenizer.json (what transformers runs) does NFD. The
        // tokenizer.json already holds both settings, so DJL's copies stay off.
        options.put("addPrefixSpace", "false");
        options.put("stripAccents", "false");
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException("Cannot load the tokenizer " + spec.tokenizerFile() + ": " + e.getMessage(), e);
        }
    }

    /** The length encodings are truncated to. */
    int maxLength() {
        return tokenizer.getMaxLength();
    }

    /*
     * One encode call per text, not DJL's batchEncode: batchEncode runs HF tokenizers' encode_batch, which
     * fans each batch out on rayon's global pool (one thread per core), while the engine's tokenizer pool
     * (InferenceEngine) already keeps every core busy with its own batches. The two pools then fight for the
     * same cores and rayon's workers spin while they wait for work: measured with `bench` on 2 cores, the
     * tokenizer alone went from 1,975 to 3,193 pairs/s, and the whole pipeline's JVM-native CPU (rayon's
     * threads are invisible to Java's thread accounting) from 2.7 to 1.0 CPU seconds, with parallelism off.
     * DJL has no switch for it and the switch HF offers is an environment variable (TOKENIZERS_PARALLELISM)
     * that a JVM cannot set for itself. encode and encode_batch give the same encodings (encode_batch maps
     * encode over its inputs); the parity tests compare them with transformers' tokenizer.
     */

    /** A pair with the tokenizer's special tokens, truncated to the max length. */
    Encoding pair(String first, String second) {
        return tokenizer.encode(first, second, true, false);
    }

    /** One text with the tokenizer's special tokens, truncated to the max length. */
    Encoding single(String text) {
        return tokenizer.encode(text, true, false);
    }

    /** One text, never truncated, with or without the special tokens; character offsets are code points. */
    Encoding whole(String text, boolean addSpecialTokens) {
        return whole.encode(text, addSpecialTokens, false);
    }

    /** Pairs as rows, as {@link #pair}. */
    List<Encoded> encodePairs(String query, List<String> passages) {
        return passages.stream().map(p -> encoded(pair(query, p))).toList();
    }

    /** One text's ids, truncated to the max length, with or without the tokenizer's special tokens. */
    long[] encodeText(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false).getIds();
    }

    static Encoded encoded(Encoding e) {
        return new Encoded(e.getIds(), e.getTypeIds());
    }

    /** Each token's characters, in code points: {@code [starts[i], ends[i])}. */
    record Offsets(int[] starts, int[] ends) {}

    static Offsets offsets(Encoding e) {
        CharSpan[] spans = e.getCharTokenSpans();
        int[] starts = new int[spans.length];
        int[] ends = new int[spans.length];
        for (int i = 0; i < spans.length; i++) {
            starts[i] = spans[i] == null ? 0 : spans[i].getStart();
            ends[i] = spans[i] == null ? 0 : spans[i].getEnd();
        }
        return new Offsets(starts, ends);
    }

    @Override
    public void close() {
        try {
            tokenizer.close();
        } finally {
            if (whole != null) {
                whole.close();
            }
        }
    }
}
