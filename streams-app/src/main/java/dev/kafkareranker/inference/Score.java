package dev.kafkareranker.inference;

import java.util.Optional;

/**
 * One passage's result.
 *
 * @param logit      the raw model output the score came from (for bi-encoders, the cosine itself); for a
 *                   passage scored in chunks, the chunks' logits pooled as their scores are
 * @param score      the score after the model's activation, pooled over the passage's chunks
 * @param provenance what of the passage was read and which part made the score; empty from a scorer that
 *                   does not know (a test's)
 */
public record Score(double logit, double score, Optional<Provenance> provenance) {

    /** A score without provenance. */
    public Score(double logit, double score) {
        this(logit, score, Optional.empty());
    }
}
