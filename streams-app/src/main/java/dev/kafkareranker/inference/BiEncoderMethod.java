package dev.kafkareranker.inference;

import ai.djl.huggingface.tokenizers.Encoding;
import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Bi-encoders: the query and each passage are rows of their own; a passage's score is the cosine of
 * its pooled embedding with the query's. Cheaper than a cross-encoder and weaker; the bundled default
 * model is one because it is the model that can ship without a download. A passage scored in chunks is one
 * row per chunk, each chunk's cosine with the query pooled as for the other kinds.
 *
 * <p>Texts go to the tokenizer as given, templates applied and nothing stripped, as the reference,
 * sentence-transformers' SentenceTransformer.encode (the pinned 6.2), does; older releases stripped them.
 */
final class BiEncoderMethod implements ScoringMethod {

    private final ModelSpec spec;
    private final TextEncoder encoder;
    private final PassageCutter cutter;

    BiEncoderMethod(ModelSpec spec, TextEncoder encoder) {
        this.spec = spec;
        this.encoder = encoder;
        this.cutter = new PassageCutter(spec, encoder, encoder.single(spec.formatDocument("")).getIds().length, false);
    }

    @Override
    public EncodedRequest encode(String query, List<String> passages) {
        List<Encoded> rows = new ArrayList<>(passages.size() + 1);
        rows.add(TextEncoder.encoded(encoder.single(spec.formatQuery(query))));
        // The query has a row of its own: every chunk gets the whole window.
        int window = cutter.window(spec.maxLength());
        List<EncodedRequest.PassageRows> layout = new ArrayList<>(passages.size());
        for (String passage : passages) {
            PassageCutter.Cut cut = cutter.cut(passage, window, false);
            int firstRow = rows.size();
            if (cut.chunked()) {
                for (PassageCutter.Piece piece : cut.pieces()) {
                    rows.add(TextEncoder.encoded(encoder.single(text(piece).text())));
                }
                layout.add(PassageCutter.chunked(firstRow, cut.plan().orElseThrow()));
                continue;
            }
            DocumentText document = text(cut.pieces().get(0));
            Encoding row = encoder.single(document.text());
            rows.add(TextEncoder.encoded(row));
            DocumentText.Kept kept = document.kept(TextEncoder.offsets(row), null, 0, row.getSpecialTokenMask(),
                    row.getIds().length);
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
            double cosine = cosine(rowOutputs[0], rowOutputs[row]);
            return new Score(cosine, cosine);
        }, spec.longDocuments().pooling());
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
