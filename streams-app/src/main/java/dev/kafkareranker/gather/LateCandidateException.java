package dev.kafkareranker.gather;

/** A candidate for a query whose ranking was already published; it goes to the dead-letter topic. */
public final class LateCandidateException extends RuntimeException {

    public LateCandidateException(String message) {
        super(message, null, false, false);
    }
}
