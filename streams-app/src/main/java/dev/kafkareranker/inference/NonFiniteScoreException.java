package dev.kafkareranker.inference;

/**
 * A row's model output held NaN or an infinity: it cannot be ranked, so its request fails instead of
 * ranking first (NaN) or last. Permanent for that input when the model scores other inputs finely.
 */
public final class NonFiniteScoreException extends InferenceException {

    public NonFiniteScoreException(String message) {
        super(message);
    }
}
