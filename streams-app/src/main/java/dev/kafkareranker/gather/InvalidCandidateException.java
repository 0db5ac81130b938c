package dev.kafkareranker.gather;

/** A candidate that cannot be gathered (null value, blank ids or text); it goes to the dead-letter queue. */
public final class InvalidCandidateException extends RuntimeException {

    public InvalidCandidateException(String message) {
        super(message);
    }
}
