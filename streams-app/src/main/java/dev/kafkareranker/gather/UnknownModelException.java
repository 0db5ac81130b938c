package dev.kafkareranker.gather;

/** A candidate named a model that this pipeline does not serve. */
public final class UnknownModelException extends RuntimeException {

    public UnknownModelException(String message) {
        super(message);
    }
}
