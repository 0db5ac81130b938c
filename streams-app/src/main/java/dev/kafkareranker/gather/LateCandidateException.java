package dev.kafkareranker.gather;

/** A candidate for a query whose ranking was already published; it goes to the dead-letter topic. */
public final class LateCandidateException extends BadRecordException {

    public LateCandidateException(String message) {
        super(DeadLetters.REASON_LATE, message);
    }
}
