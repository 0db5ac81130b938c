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
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(spec.tokenizerFile(), Map.of(
                    "addSpecialTokens", "true",
                    "truncation", "true",
                    "padding", "false",
                    "maxLength", Integer.toString(spec.maxLength())));
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException("Cannot load the tokenizer " + spec.tokenizerFile() + ": " + e.getMessage(), e);
        }
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
