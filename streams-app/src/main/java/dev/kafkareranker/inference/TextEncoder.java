package dev.kafkareranker.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;
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
                    "modelMaxLength", Integer.toString(maxLength)));
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

    List<Encoded> encodePairs(String query, List<String> passages) {
        PairList<String, String> pairs = new PairList<>(passages.size());
        for (String passage : passages) {
            pairs.add(query, passage);
        }
        return convert(tokenizer.batchEncode(pairs));
    }

    List<Encoded> encodeTexts(List<String> texts) {
        return convert(tokenizer.batchEncode(texts));
    }

    /** One text's ids, truncated to the max length, with or without the tokenizer's special tokens. */
    long[] encodeText(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false).getIds();
    }

    /** Many texts' ids, as {@link #encodeText}. */
    List<long[]> encodeTexts(List<String> texts, boolean addSpecialTokens) {
        Encoding[] encodings = tokenizer.batchEncode(texts, addSpecialTokens, false);
        List<long[]> out = new ArrayList<>(encodings.length);
        for (Encoding e : encodings) {
            out.add(e.getIds());
        }
        return out;
    }

    private static List<Encoded> convert(Encoding[] encodings) {
        List<Encoded> out = new ArrayList<>(encodings.length);
        for (Encoding e : encodings) {
            out.add(new Encoded(e.getIds(), e.getTypeIds()));
        }
        return out;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
