package dev.kafkareranker.gather;

/** A candidate that cannot be gathered (null value, blank ids or text, impossible counts); it goes to the dead-letter queue. */
public final class InvalidCandidateException extends BadRecordException {

    public InvalidCandidateException(String message) {
        this(CountingExceptionHandlers.REASON_INVALID, message);
    }

    /** @param reason the dead-letter reason code, more precise than invalid-candidate */
    public InvalidCandidateException(String reason, String message) {
        super(reason, message);
    }
}
