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
 * @param stage      which stage of a cascade ranked the passage; empty when one model scored every passage
 */
public record Score(double logit, double score, Optional<Provenance> provenance, Optional<Stage> stage) {

    /** A score from one model, with what of the passage it read. */
    public Score(double logit, double score, Optional<Provenance> provenance) {
        this(logit, score, provenance, Optional.empty());
    }

    /** A score without provenance. */
    public Score(double logit, double score) {
        this(logit, score, Optional.empty(), Optional.empty());
    }

    /** This score as ranked by a cascade's {@code stage}. */
    public Score staged(Stage stage) {
        return new Score(logit, score, provenance, Optional.of(stage));
    }
}
