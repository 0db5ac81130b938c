package dev.kafkareranker.gather;

import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.SourceHeader;
import dev.kafkareranker.avro.internal.SourceRecord;
import dev.kafkareranker.avro.internal.StoredCandidate;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.StageTimes;
import dev.kafkareranker.tracing.ModelBatch;
import dev.kafkareranker.tracing.QuerySpan;
import dev.kafkareranker.tracing.Tracing;
import io.opentelemetry.api.trace.SpanContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The query spans of one gathering task ({@link Tracing}): a query's span starts at its first candidate, links to
 * every candidate's own context, gets its stages as child spans once each has ended (gathering here; tokenizing,
 * queueing and model batches from the engine's {@link StageTimes}; the result's write), puts its context into the
 * result's or dead letters' headers, and ends once those are forwarded. Only the stream thread that owns the task
 * calls it. With tracing off, every method returns at its first branch: no clock is read and nothing allocated.
 *
 * <p>Spans live in this task's memory only. A task that stops ends its open spans as unfinished
 * ({@code rerank.unfinished}); whoever runs the task next starts a new span for each query it finds gathering or
 * ready ({@code rerank.resumed}). Carrying span contexts in the store instead would change the query store's
 * schema for every record, traced or not, and a downgrade could no longer read it: a high price for the few
 * queries in flight at a rebalance. A process that dies loses its open spans (never exported).
 */
final class QueryTraces {

    /**
     * Emitted queries whose span context a late candidate's span can still link to: the newest, per task. About 100
     * bytes each; a candidate later than that many queries still gets its dead letter's span, without the link.
     */
    static final int REMEMBERED_EMITTED = 4_096;

    /** Tracing off: every call returns at once. */
    static final QueryTraces OFF = new QueryTraces(Tracing.off(), "", "", "");

    /** One open query span and the times of its stages so far (epoch nanoseconds, on the Tracing's clock). */
    private static final class Trace {
        final QuerySpan span;
        final long startNanos;
        long handedNanos;
        StageTimes times;
        long writeNanos;
        String deadLetterReason;

        Trace(QuerySpan span, long startNanos) {
            this.span = span;
            this.startNanos = startNanos;
        }
    }

    private final Tracing tracing;
    private final boolean on;
    private final String group;
    private final String candidatesTopic;
    private final String resultsTopic;
    private final Map<String, Trace> open = new HashMap<>();
    private final Map<String, SpanContext> emitted = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, SpanContext> eldest) {
            return size() > REMEMBERED_EMITTED;
        }
    };
    /** Written out in the step that runs now: ended once the processor has forwarded its records ({@link #forwarded}). */
    private final List<Trace> ending = new ArrayList<>();

    /**
     * @param group           the consumer group (application.id), as the messaging conventions name it
     * @param candidatesTopic the span's topic for a query this task took over before seeing one of its candidates
     * @param resultsTopic    where results go: the write's span is {@code send {resultsTopic}}
     */
    QueryTraces(Tracing tracing, String group, String candidatesTopic, String resultsTopic) {
        this.tracing = tracing;
        this.on = tracing.enabled();
        this.group = group;
        this.candidatesTopic = candidatesTopic;
        this.resultsTopic = resultsTopic;
    }

    /** A candidate joined {@code query} ({@code first}: it made the query); its own context becomes a link. */
    void candidate(QueryState query, boolean first, StoredCandidate stored) {
        if (!on) {
            return;
        }
        Trace trace = first ? start(query.getQueryId(), stored, false) : trace(query, stored);
        trace.span.candidateArrived(headers(stored));
    }

    /** The query stopped gathering: {@code complete} when every expected candidate came. */
    void ready(QueryState query, boolean complete) {
        if (!on) {
            return;
        }
        Trace trace = trace(query, null);
        trace.span.gathered(trace.startNanos, tracing.now(), query.getReceived(), complete);
    }

    /** The query is handed to its model: the times the engine should note for it, or null with tracing off. */
    StageTimes handingOver(QueryState query) {
        if (!on) {
            return null;
        }
        Trace trace = trace(query, null);
        trace.handedNanos = tracing.now();
        trace.times = new StageTimes();
        return trace.times;
    }

    /** The outcome of a query is about to be built: its write's span starts here. */
    long writing() {
        return on ? tracing.now() : 0L;
    }

    /**
     * The query's outcome was built and its store entries removed: its engine stages become spans, its context goes
     * into the headers of what will be forwarded ({@code written}), and it ends once that is forwarded.
     *
     * @param deadLetterReason null for a result
     */
    void written(ScoringQueue.InFlight done, long writeNanos, List<Outcome> written, String deadLetterReason) {
        if (!on) {
            return;
        }
        Trace trace = trace(done.query, null);
        open.remove(done.query.getQueryId());
        engineStages(trace, done);
        for (Outcome o : written) {
            trace.span.injectInto(o.headers());
        }
        trace.writeNanos = writeNanos;
        trace.deadLetterReason = deadLetterReason;
        ending.add(trace);
        emitted.put(done.query.getQueryId(), trace.span.context());
    }

    /** What was written in this step is forwarded: those spans end now. */
    void forwarded() {
        if (ending.isEmpty()) {
            return;
        }
        long now = tracing.now();
        for (Trace trace : ending) {
            if (trace.deadLetterReason == null) {
                trace.span.resultWritten(trace.writeNanos, now, resultsTopic);
                trace.span.end(now);
            } else {
                trace.span.endDeadLettered(now, trace.deadLetterReason);
            }
        }
        ending.clear();
    }

    /**
     * A candidate of {@code queryId} is a dead letter on its own (late, another model): its own short span, linked
     * to its context and to the query's span while this task knows it, goes with the exception, whose dead letter
     * carries it ({@link BadRecordException#trace}).
     */
    BadRecordException rejected(BadRecordException failure, String queryId, StoredCandidate stored) {
        if (!on) {
            return failure;
        }
        long now = tracing.now();
        QuerySpan span = tracing.startQuery(topic(stored), group, queryId, now);
        span.candidateArrived(headers(stored));
        Trace live = open.get(queryId);
        span.link(live != null ? live.span.context() : emitted.getOrDefault(queryId, SpanContext.getInvalid()));
        span.endDeadLettered(now, failure.reason());
        return failure.traced(span);
    }

    /** The task stops: its open spans end as unfinished (the next task to run it starts new ones). */
    void close() {
        if (!on) {
            return;
        }
        forwarded();
        long now = tracing.now();
        open.values().forEach(t -> t.span.endUnfinished(now, "task closed before the result"));
        open.clear();
    }

    /** Open spans, for tests. */
    int open() {
        return open.size();
    }

    private Trace start(String queryId, StoredCandidate stored, boolean resumed) {
        long now = tracing.now();
        Trace trace = new Trace(tracing.startQuery(topic(stored), group, queryId, now), now);
        if (resumed) {
            trace.span.resumed();
        }
        open.put(queryId, trace);
        return trace;
    }

    /** The query's open span, or a new one when this task took the query over from one that stopped. */
    private Trace trace(QueryState query, StoredCandidate stored) {
        Trace trace = open.get(query.getQueryId());
        return trace != null ? trace : start(query.getQueryId(), stored, true);
    }

    /** Tokenizing, queueing and each model batch, placed on the Tracing's clock through the hand-over. */
    private void engineStages(Trace trace, ScoringQueue.InFlight done) {
        StageTimes times = trace.times;
        long origin = times == null ? Long.MIN_VALUE : times.submittedNanos();
        if (origin == Long.MIN_VALUE) {
            return;  // refused at once, or a scorer that notes no stages
        }
        long shift = trace.handedNanos - origin;
        if (times.wasTokenized()) {
            trace.span.tokenized(times.tokenizeStartNanos() + shift, times.tokenizeEndNanos() + shift, done.gathered.size(),
                    times.tokens());
        }
        List<StageTimes.Batch> batches = times.batches();
        if (times.enqueuedNanos() != Long.MIN_VALUE && !batches.isEmpty()) {
            trace.span.queued(times.enqueuedNanos() + shift, batches.get(0).startNanos() + shift);
        }
        if (!batches.isEmpty() && trace.span.recording()) {
            Scorer.Scoring scoring = done.scoring;
            String model = scoring != null ? scoring.modelName() : String.valueOf(done.query.getModel());
            String version = scoring != null ? scoring.modelVersion() : "";
            for (StageTimes.Batch b : batches) {
                trace.span.modelBatch(b.startNanos() + shift, b.endNanos() + shift,
                        new ModelBatch(b.rows(), b.realTokens(), b.paddedTokens(), times.device(), model, version));
            }
        }
    }

    private String topic(StoredCandidate stored) {
        SourceRecord source = stored == null ? null : stored.getSource();
        return source == null ? candidatesTopic : source.getTopic();
    }

    /** The candidate's headers as produced (its traceparent among them), from its store entry. */
    private static Headers headers(StoredCandidate stored) {
        Headers headers = new RecordHeaders();
        SourceRecord source = stored == null ? null : stored.getSource();
        if (source != null) {
            for (SourceHeader h : source.getHeaders()) {
                headers.add(h.getKey(), DeadLetters.array(h.getValue()));
            }
        }
        return headers;
    }
}
