package dev.kafkareranker.inference;

/**
 * A model run that failed; the pairs it held were not scored. This class itself is permanent for its
 * request (the input could not be scored: a dead letter is right); the subclass
 * {@link ModelUnavailableException} is a fault of the model, not of the input, and retrying later can help.
 */
public class InferenceException extends RuntimeException {

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }

    public InferenceException(String message) {
        super(message);
    }
}
