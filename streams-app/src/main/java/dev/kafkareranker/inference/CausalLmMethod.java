package dev.kafkareranker.inference;

import dev.kafkareranker.model.CausalLmPrompt;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Causal-LM rerankers (kind {@code causal-lm}, Qwen3-Reranker style): one row per pair,
 * {@code prefix + template(query, passage) + suffix}, left-padded, and the graph's two outputs, the
 * next-token logits of the positive and the negative label word at the last position, turned into
 * {@code logit = yes - no} and {@code score = sigmoid(logit)}.
 *
 * <p>The graph has the two label ids baked in (tools/ export gathers them from the LM head), so the
 * tokenizer's ids for the configured words are checked against reranker.json's {@code label_token_ids}.
 */
final class CausalLmMethod implements ScoringMethod {

    private final ModelSpec spec;
    private final CausalLmPrompt prompt;
    private final TextEncoder encoder;
    private final long[] prefixIds;
    private final long[] suffixIds;
    private final int bodyMax;
    private final long[] labelIds;

    CausalLmMethod(ModelSpec spec, TextEncoder encoder) {
        this.spec = spec;
        this.prompt = spec.prompt().orElseThrow(() -> new IllegalArgumentException(spec.name() + " is not a causal-lm model"));
        this.encoder = encoder;
        this.prefixIds = encoder.encodeText(prompt.prefix(), true);
        this.suffixIds = prompt.suffix().isEmpty() ? new long[0] : encoder.encodeText(prompt.suffix(), false);
        this.bodyMax = spec.maxLength() - prefixIds.length - suffixIds.length;
        if (bodyMax < 1) {
            throw new ModelLoadException(spec.name() + ": prompt_prefix and prompt_suffix take " + (prefixIds.length + suffixIds.length)
                    + " tokens, leaving nothing of max length " + spec.maxLength() + " (" + spec.maxLengthSource()
                    + ") for the query and document; shorten them in reranker.json or raise max_length");
        }
        this.labelIds = new long[2];
        for (int i = 0; i < 2; i++) {
            String word = prompt.labelWords().get(i);
            long[] ids = encoder.encodeText(word, false);
            if (ids.length != 1) {
                throw new ModelLoadException(spec.name() + ": label word '" + word + "' is " + ids.length + " tokens "
                        + Arrays.toString(ids) + " in " + spec.tokenizerFile() + "; set label_words in reranker.json to"
                        + " two words that are one token each");
            }
            labelIds[i] = ids[0];
        }
        prompt.labelTokenIds().ifPresent(expected -> {
            if (expected.get(0) != labelIds[0] || expected.get(1) != labelIds[1]) {
                throw new ModelLoadException(spec.name() + ": the tokenizer gives label_words " + prompt.labelWords() + " ids "
                        + Arrays.toString(labelIds) + " but the graph was exported for label_token_ids " + expected
                        + " (reranker.json); export again with these words, or fix label_words");
            }
        });
    }

    /** The label words' ids: the positive, then the negative. */
    long[] labelIds() {
        return labelIds.clone();
    }

    @Override
    public List<Encoded> encode(String query, List<String> passages) {
        String formattedQuery = spec.formatQuery(query);
        List<String> bodies = new ArrayList<>(passages.size());
        for (String passage : passages) {
            bodies.add(prompt.body(formattedQuery, spec.formatDocument(passage)));
        }
        List<Encoded> rows = new ArrayList<>(bodies.size());
        for (long[] body : encoder.encodeTexts(bodies, false)) {
            // Keeping the first tokens is what HF truncation of one sequence does; the suffix is never cut.
            int kept = Math.min(body.length, bodyMax);
            long[] ids = new long[prefixIds.length + kept + suffixIds.length];
            System.arraycopy(prefixIds, 0, ids, 0, prefixIds.length);
            System.arraycopy(body, 0, ids, prefixIds.length, kept);
            System.arraycopy(suffixIds, 0, ids, prefixIds.length + kept, suffixIds.length);
            rows.add(new Encoded(ids, new long[ids.length]));
        }
        return rows;
    }

    @Override
    public List<Score> finish(float[][] rowOutputs) {
        List<Score> scores = new ArrayList<>(rowOutputs.length);
        for (float[] logits : rowOutputs) {
            if (logits.length != 2) {
                throw new InferenceException(spec.name() + ": a causal-lm graph returns [batch, 2] (the label words' logits),"
                        + " got " + logits.length + " values per row; export it with tools/ export --kind causal-lm", null);
            }
            double logit = (double) logits[0] - logits[1];
            scores.add(new Score(logit, 1.0 / (1.0 + Math.exp(-logit))));
        }
        return scores;
    }
}
