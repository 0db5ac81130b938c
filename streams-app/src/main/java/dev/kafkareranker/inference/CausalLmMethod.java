package dev.kafkareranker.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import dev.kafkareranker.model.CausalLmPrompt;
import dev.kafkareranker.model.LongDocuments.TruncationSide;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Causal-LM rerankers (kind {@code causal-lm}, Qwen3-Reranker style): one row per pair,
 * {@code prefix + template(query, passage) + suffix}, left-padded, and the graph's two outputs, the
 * next-token logits of the positive and the negative label word at the last position, turned into
 * {@code logit = yes - no} and {@code score = sigmoid(logit)}. A passage scored in chunks is one such
 * prompt per chunk, the chunk in the template where the passage would be.
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
    private final PassageCutter cutter;

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
        int emptyBody = encoder.whole(prompt.body(spec.formatQuery(""), spec.formatDocument("")), false).getIds().length;
        this.cutter = new PassageCutter(spec, encoder, prefixIds.length + suffixIds.length + emptyBody, true);
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
    public EncodedRequest encode(String query, List<String> passages) {
        String formattedQuery = spec.formatQuery(query);
        // Cut from the left, a passage is cut to the window before it goes into the prompt: the prompt's
        // own cut keeps its start (the instruction and the query), as transformers' truncation of the body does.
        boolean cutAtWindow = !spec.longDocuments().chunked() && spec.longDocuments().side() == TruncationSide.LEFT;
        int window = spec.longDocuments().chunked() || cutAtWindow ? cutter.window(prefixIds.length + suffixIds.length
                + encoder.whole(prompt.body(formattedQuery, spec.formatDocument("")), false).getIds().length) : 0;
        int documentStart = prompt.beforeDocument(formattedQuery).codePointCount(0, prompt.beforeDocument(formattedQuery).length());
        List<Encoded> rows = new ArrayList<>(passages.size());
        List<EncodedRequest.PassageRows> layout = new ArrayList<>(passages.size());
        for (String passage : passages) {
            PassageCutter.Cut cut = cutter.cut(passage, window, cutAtWindow);
            int firstRow = rows.size();
            for (PassageCutter.Piece piece : cut.pieces()) {
                DocumentText document = DocumentText.templated(piece.text(), piece.offset(), spec.documentTemplate());
                String bodyText = prompt.body(formattedQuery, document.text());
                Encoding body = encoder.whole(bodyText, false);
                long[] bodyIds = body.getIds();
                // Keeping the first tokens is what HF truncation of one sequence does; the suffix is never cut.
                int kept = Math.min(bodyIds.length, bodyMax);
                long[] ids = new long[prefixIds.length + kept + suffixIds.length];
                System.arraycopy(prefixIds, 0, ids, 0, prefixIds.length);
                System.arraycopy(bodyIds, 0, ids, prefixIds.length, kept);
                System.arraycopy(suffixIds, 0, ids, prefixIds.length + kept, suffixIds.length);
                rows.add(new Encoded(ids, new long[ids.length]));
                if (!cut.chunked()) {
                    DocumentText inBody = new DocumentText(bodyText, documentStart + document.pieceStart(), document.pieceLength(),
                            document.offset());
                    TextEncoder.Offsets offsets = TextEncoder.offsets(body);
                    DocumentText.Kept read = inBody.kept(offsets, null, 0, null, kept);
                    layout.add(cutter.truncated(firstRow, cut, read, kept < bodyIds.length,
                            () -> inBody.kept(offsets, null, 0, null, bodyIds.length).tokens()));
                }
            }
            if (cut.chunked()) {
                layout.add(PassageCutter.chunked(firstRow, cut.plan().orElseThrow()));
            }
        }
        return new EncodedRequest(rows, layout);
    }

    @Override
    public List<Score> finish(EncodedRequest request, float[][] rowOutputs) {
        return ChunkScores.pool(request, row -> {
            float[] logits = rowOutputs[row];
            if (logits.length != 2) {
                throw new InferenceException(spec.name() + ": a causal-lm graph returns [batch, 2] (the label words' logits),"
                        + " got " + logits.length + " values per row; export it with tools/ export --kind causal-lm", null);
            }
            double logit = (double) logits[0] - logits[1];
            return new Score(logit, 1.0 / (1.0 + Math.exp(-logit)));
        }, spec.longDocuments().pooling());
    }
}
