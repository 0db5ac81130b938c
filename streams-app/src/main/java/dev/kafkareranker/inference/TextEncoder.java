package dev.kafkareranker.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tokenizes as the model was trained: the model's own tokenizer.json, its special tokens, and
 * truncation to the model's maximum length, longest-first over a pair as HF {@code truncation=True}
 * does. Padding is left to {@link TokenBatch}, which pads each batch only to its own longest row.
 */
final class TextEncoder implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;

    TextEncoder(ModelSpec spec) {
        this(spec, spec.maxLength(), true);
    }

    /**
     * @param maxLength          truncation length (the spec's, or less where the caller adds tokens around the text)
     * @param addSpecialTokens   whether the tokenizer's post-processor adds its special tokens (CLS/SEP, BOS)
     */
    TextEncoder(ModelSpec spec, int maxLength, boolean addSpecialTokens) {
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(spec.tokenizerFile(), Map.of(
                    "addSpecialTokens", Boolean.toString(addSpecialTokens),
                    "truncation", "true",
                    "padding", "false",
                    "maxLength", Integer.toString(maxLength),
                    // DJL defaults modelMaxLength to 512 and lowers any larger maxLength to it with only
                    // a warning; the directory already decided the model's limit (ModelDirectory).
                    "modelMaxLength", Integer.toString(maxLength),
                    // DJL applies tokenizer_config.json's add_prefix_space and strip_accents itself, in Java,
                    // before single-text encodes (not batch ones, not pairs): a second prefix space, and
                    // NFKD where the normalizer in tokenizer.json (what transformers runs) does NFD. The
                    // tokenizer.json already holds both settings, so DJL's copies stay off.
                    "addPrefixSpace", "false",
                    "stripAccents", "false"));
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException("Cannot load the tokenizer " + spec.tokenizerFile() + ": " + e.getMessage(), e);
        }
        if (tokenizer.getMaxLength() != maxLength) {
            // Any other library default that shortens encodings must fail here, not cut text silently.
            int actual = tokenizer.getMaxLength();
            tokenizer.close();
            throw new ModelLoadException("The tokenizer " + spec.tokenizerFile() + " truncates at " + actual
                    + " tokens but the model directory asks for " + maxLength + " (" + spec.maxLengthSource() + ")");
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

    List<Encoded> encodePairs(String query, List<String> passages) {
        List<Encoded> out = new ArrayList<>(passages.size());
        for (String passage : passages) {
            out.add(encoded(tokenizer.encode(query, passage)));
        }
        return out;
    }

    List<Encoded> encodeTexts(List<String> texts) {
        List<Encoded> out = new ArrayList<>(texts.size());
        for (String text : texts) {
            out.add(encoded(tokenizer.encode(text)));
        }
        return out;
    }

    /** One text's ids, truncated to the max length, with or without the tokenizer's special tokens. */
    long[] encodeText(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false).getIds();
    }

    /** Many texts' ids, as {@link #encodeText}. */
    List<long[]> encodeTexts(List<String> texts, boolean addSpecialTokens) {
        List<long[]> out = new ArrayList<>(texts.size());
        for (String text : texts) {
            out.add(encodeText(text, addSpecialTokens));
        }
        return out;
    }

    private static Encoded encoded(Encoding e) {
        return new Encoded(e.getIds(), e.getTypeIds());
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
