package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Cross-encoders and decoder rerankers: one row per (query, passage) pair, templates applied, and the
 * row's logits turned into a score by the model's activation and label index.
 */
final class CrossEncoderMethod implements ScoringMethod {

    private final ModelSpec spec;
    private final TextEncoder encoder;

    CrossEncoderMethod(ModelSpec spec, TextEncoder encoder) {
        this.spec = spec;
        this.encoder = encoder;
    }

    @Override
    public List<Encoded> encode(String query, List<String> passages) {
        List<String> documents = new ArrayList<>(passages.size());
        for (String passage : passages) {
            documents.add(prepare(spec.formatDocument(passage)));
        }
        return encoder.encodePairs(prepare(spec.formatQuery(query)), documents);
    }

    /**
     * sentence-transformers' CrossEncoder strips each text before tokenizing, and its scores are the
     * reference; decoder rerankers are scored with transformers directly, which does not.
     */
    private String prepare(String text) {
        return spec.kind() == dev.kafkareranker.model.ModelKind.DECODER ? text : text.strip();
    }

    @Override
    public List<Score> finish(float[][] rowOutputs) {
        List<Score> scores = new ArrayList<>(rowOutputs.length);
        for (float[] logits : rowOutputs) {
            scores.add(new Score(logits[spec.labelIndex()], spec.activation().apply(logits, spec.labelIndex())));
        }
        return scores;
    }
}
