package dev.kafkareranker.gather;

/** A candidate naming another model than its query's first candidate: it alone is a dead letter, the query goes on. */
public final class ModelConflictException extends BadRecordException {

    public ModelConflictException(String message) {
        super(DeadLetters.REASON_MODEL_CONFLICT, message);
    }
}
