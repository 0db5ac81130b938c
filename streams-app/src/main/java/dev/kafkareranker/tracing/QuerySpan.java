package dev.kafkareranker.tracing;

import io.opentelemetry.api.trace.SpanContext;
import org.apache.kafka.common.header.Headers;

/**
 * One query's trace, from its first candidate to its result (or dead letter), shaped for the gatherer and the
 * engine. Made by {@link Tracing#startQuery}; without tracing configured it is {@link #NONE}, whose methods do
 * nothing and allocate nothing, so call sites need no {@code if (tracing.enabled())}.
 *
 * <p>Stages are recorded after the fact with the times they started and ended (epoch nanoseconds, from
 * {@link Tracing#now()}), so the engine can time its work on its own threads and hand the times over; each
 * becomes a child span of the query span. Not thread-safe as a whole: call it from one thread at a time (the
 * stream thread that owns the query), except {@link #injectInto}, which only reads.
 */
public interface QuerySpan {

    /** Does nothing: what {@link Tracing#startQuery} returns when tracing is off. */
    QuerySpan NONE = new QuerySpan() {
    };

    /**
     * A candidate of this query arrived: its {@code traceparent} header, if any, becomes a link (the messaging
     * conventions' way to relate one processing span to the many messages it processed). Call it for the first
     * candidate too.
     */
    default void candidateArrived(Headers candidateHeaders) {
    }

    /**
     * A link to another span this one relates to without being its child: the query span a late candidate missed,
     * for the span of that candidate's dead letter. An invalid context is ignored.
     */
    default void link(SpanContext other) {
    }

    /**
     * This task took the query over from one that stopped before writing its result (a rebalance, a restart): the
     * span starts here, not at the first candidate, and the earlier task's span, if it was ended, is another trace.
     */
    default void resumed() {
    }

    /** Gathering: from the first candidate to the query being ready ({@code complete}: every expected candidate came). */
    default void gathered(long startNanos, long endNanos, int candidates, boolean complete) {
    }

    /** Waiting in the engine's queue for a batch. */
    default void queued(long startNanos, long endNanos) {
    }

    /** Tokenizing the query's pairs. */
    default void tokenized(long startNanos, long endNanos, int pairs, long tokens) {
    }

    /** The model run that scored the query's pairs, with what the batch held. */
    default void modelBatch(long startNanos, long endNanos, ModelBatch batch) {
    }

    /** Writing the result record to {@code resultsTopic} (a producer span, as the messaging conventions name it). */
    default void resultWritten(long startNanos, long endNanos, String resultsTopic) {
    }

    /**
     * Writes this query span's context ({@code traceparent}, {@code tracestate}) into the headers of its result
     * or of its candidates' dead letters, so the next hop links to this query's trace.
     */
    default void injectInto(Headers headers) {
    }

    /** Ends the query span with its result published. */
    default void end(long endNanos) {
    }

    /** Ends the query span as failed: its candidates became dead letters for {@code reason}. */
    default void endDeadLettered(long endNanos, String reason) {
    }

    /**
     * Ends the query span without its result: its task stopped first ({@code why}), and whoever runs the task next
     * scores the query again under a span of its own. Not an error of the query.
     */
    default void endUnfinished(long endNanos, String why) {
    }

    /** The query span's own context (invalid for {@link #NONE}), for a later span to link to. */
    default SpanContext context() {
        return SpanContext.getInvalid();
    }

    /** Whether this span records anything (false for {@link #NONE}). */
    default boolean recording() {
        return false;
    }
}
