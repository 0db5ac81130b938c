package dev.kafkareranker.inference;

/** A model run that failed; the pairs it held were not scored. */
public final class InferenceException extends RuntimeException {

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
