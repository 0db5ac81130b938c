package dev.kafkareranker.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Cross-encoders and decoder rerankers: one row per (query, passage) pair, or per (query, chunk) pair for a
 * passage scored in chunks, templates applied, and the row's logits turned into a score by the model's
 * activation and label index; a passage's chunks are pooled ({@link ChunkScores}).
 *
 * <p>Texts go to the tokenizer as given, edge whitespace included: the references, sentence-transformers'
 * CrossEncoder.predict (the pinned 6.2; older releases stripped both texts) and transformers' tokenizer, do not
 * strip, and byte-level BPE reads a leading or trailing space, tab or newline as tokens of its own.
 */
final class CrossEncoderMethod implements ScoringMethod {

    private final ModelSpec spec;
    private final TextEncoder encoder;
    private final PassageCutter cutter;

    CrossEncoderMethod(ModelSpec spec, TextEncoder encoder) {
        this.spec = spec;
        this.encoder = encoder;
        int fixed = encoder.pair(spec.formatQuery(""), emptyDocument()).getIds().length;
        this.cutter = new PassageCutter(spec, encoder, fixed, true);
    }

    private String emptyDocument() {
        return spec.formatDocument("");
    }

    @Override
    public EncodedRequest encode(String query, List<String> passages) {
        String q = spec.formatQuery(query);
        int window = spec.longDocuments().chunked() ? cutter.window(encoder.pair(q, emptyDocument()).getIds().length) : 0;
        List<Encoded> rows = new ArrayList<>(passages.size());
        List<EncodedRequest.PassageRows> layout = new ArrayList<>(passages.size());
        for (String passage : passages) {
            PassageCutter.Cut cut = cutter.cut(passage, window, false);
            int firstRow = rows.size();
            if (cut.chunked()) {
                for (PassageCutter.Piece piece : cut.pieces()) {
                    rows.add(TextEncoder.encoded(encoder.pair(q, text(piece).text())));
                }
                layout.add(PassageCutter.chunked(firstRow, cut.plan().orElseThrow()));
                continue;
            }
            DocumentText document = text(cut.pieces().get(0));
            Encoding row = encoder.pair(q, document.text());
            rows.add(TextEncoder.encoded(row));
            DocumentText.Kept kept = document.kept(TextEncoder.offsets(row), row.getSequenceIds(), 1,
                    row.getSpecialTokenMask(), row.getIds().length);
            layout.add(cutter.truncated(firstRow, cut, kept, row.exceedMaxLength(), () -> cutter.tokensAlone(passage)));
        }
        return new EncodedRequest(rows, layout);
    }

    private DocumentText text(PassageCutter.Piece piece) {
        return DocumentText.templated(piece.text(), piece.offset(), spec.documentTemplate());
    }

    @Override
    public List<Score> finish(EncodedRequest request, float[][] rowOutputs) {
        return ChunkScores.pool(request, row -> {
            float[] logits = rowOutputs[row];
            return new Score(logits[spec.labelIndex()], spec.activation().apply(logits, spec.labelIndex()));
        }, spec.longDocuments().pooling());
    }
}
