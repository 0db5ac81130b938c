package dev.kafkareranker.gather;

import dev.kafkareranker.tracing.QuerySpan;

/**
 * A failure caused by one input record alone, which will fail the same way however often it is
 * processed: only these go to the dead-letter topic (the processing handler answers CONTINUE). Every
 * other error (a serializer, the registry, a store, the model engine) fails the task instead, so the
 * transaction aborts and the input is processed again: a dead letter is for a record that will never
 * succeed, and continuing past a failure in the middle of a query's store changes would commit half of them.
 */
public abstract class BadRecordException extends RuntimeException {

    private final String reason;
    /** The span of this record's dead letter, whose context its headers carry (QueryTraces); none with tracing off. */
    private transient QuerySpan trace = QuerySpan.NONE;

    /** @param reason a short, stable code for the rerank.dlq.reason header and the metrics */
    protected BadRecordException(String reason, String message) {
        // No stack trace: the record is at fault, not the code, and dead letters can come at input rate.
        super(message, null, false, false);
        this.reason = reason;
    }

    /** The dead-letter reason code. */
    public String reason() {
        return reason;
    }

    BadRecordException traced(QuerySpan span) {
        this.trace = span;
        return this;
    }

    /** The span whose context this record's dead letter carries in its headers ({@link QuerySpan#NONE} without tracing). */
    QuerySpan trace() {
        return trace;
    }
}
