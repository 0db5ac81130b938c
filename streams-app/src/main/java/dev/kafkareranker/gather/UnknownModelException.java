package dev.kafkareranker.gather;

/** A candidate named a model that this pipeline does not serve: that record alone is a dead letter. */
public final class UnknownModelException extends BadRecordException {

    public UnknownModelException(String message) {
        super(DeadLetters.REASON_UNKNOWN_MODEL, message);
    }
}
