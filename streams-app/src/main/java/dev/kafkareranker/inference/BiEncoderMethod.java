package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Bi-encoders: the query and each passage are rows of their own; a passage's score is the cosine of
 * its pooled embedding with the query's. Cheaper than a cross-encoder and weaker; the bundled default
 * model is one because it is the model that can ship without a download.
 */
final class BiEncoderMethod implements ScoringMethod {

    private final ModelSpec spec;
    private final TextEncoder encoder;

    BiEncoderMethod(ModelSpec spec, TextEncoder encoder) {
        this.spec = spec;
        this.encoder = encoder;
    }

    @Override
    public List<Encoded> encode(String query, List<String> passages) {
        List<String> texts = new ArrayList<>(passages.size() + 1);
        // Stripped as sentence-transformers does before tokenizing.
        texts.add(spec.formatQuery(query).strip());
        for (String passage : passages) {
            texts.add(spec.formatDocument(passage).strip());
        }
        return encoder.encodeTexts(texts);
    }

    @Override
    public List<Score> finish(float[][] rowOutputs) {
        List<Score> scores = new ArrayList<>(rowOutputs.length - 1);
        for (int i = 1; i < rowOutputs.length; i++) {
            double cosine = cosine(rowOutputs[0], rowOutputs[i]);
            scores.add(new Score(cosine, cosine));
        }
        return scores;
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
