package dev.kafkareranker.gather;

import dev.kafkareranker.inference.Scorer;

/** Picks the scorer for a query by its candidates' {@code model} field. */
@FunctionalInterface
public interface ScorerRouter {

    /**
     * The scorer for {@code model}, or the default one when {@code model} is null.
     *
     * @throws UnknownModelException when no model of that name is served
     */
    Scorer forModel(String model);

    /**
     * Whether every model takes work now (no circuit breaker open). While one does not, gathering queries
     * do not time out: the input is held back meanwhile (see RerankerApp), so their candidates are still
     * to be read. A router that cannot tell says true.
     */
    default boolean accepting() {
        return true;
    }

    /**
     * Whether every model's queue has room for more work ({@link Scorer#hasRoom()}): while one has none,
     * ready queries wait in the store instead of being handed over, and the input is paused. A router that
     * cannot tell says true.
     */
    default boolean hasRoom() {
        return true;
    }

    /**
     * When (wall clock, ms) the input was last resumed after a pause for a model refusing work, or
     * Long.MIN_VALUE: gathering queries then get a whole max wait for the input that came meanwhile.
     */
    default long inputResumedAtMs() {
        return Long.MIN_VALUE;
    }

    /** A router serving one model, under its name or as the default. */
    static ScorerRouter single(Scorer scorer) {
        return model -> {
            if (model == null || model.equals(scorer.modelName())) {
                return scorer;
            }
            throw new UnknownModelException("model '" + model + "' is not served here (this instance serves '" + scorer.modelName() + "')");
        };
    }
}
