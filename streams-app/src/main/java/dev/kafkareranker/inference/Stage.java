package dev.kafkareranker.inference;

import java.util.Objects;

/**
 * Which stage of a cascade ranked a passage: a query routed to a model that has a first stage is scored by
 * the first stage on every candidate and by the model itself on the first stage's top N only.
 *
 * @param model           the model whose score the passage carries, by name (as results name models)
 * @param finalStage      true for the model the query was routed to (one of the top N); false for the first stage
 *                        alone, whose entries rank below every one the model scored
 * @param firstStageScore the first stage's score of the passage, whichever stage ranked it
 */
public record Stage(String model, boolean finalStage, double firstStageScore) {

    public Stage {
        Objects.requireNonNull(model, "model");
    }
}
