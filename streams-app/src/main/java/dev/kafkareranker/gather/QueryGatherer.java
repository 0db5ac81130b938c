package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.StoredCandidate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gathering of one task, without Kafka: admits candidates into their queries, decides when a query
 * is ready (its candidate_count of distinct documents, the per-query cap, the pending cap, or its max
 * wait by the upstream watermarks), hands ready queries to the model without waiting ({@link ScoringQueue})
 * and turns those scored into outcomes ({@link Outcomes}), with their store changes. Time comes from the
 * injected clock; what must reach the topics is returned, for the caller to forward in the same
 * transaction as the store changes that went with it.
 *
 * <p>Failure paths: everything that can fail for one record (its model, a conflict, lateness) is checked
 * before any store change and thrown as a {@link BadRecordException}, which the processing handler
 * dead-letters. A query's outcome is built and serialized before its store entries are removed; when that
 * fails (the registry), nothing changed and writing it is tried again later. A model that cannot score
 * now leaves its queries waiting in the store. See {@link Failures} for the whole design.
 */
final class QueryGatherer {

    private static final Logger LOG = LoggerFactory.getLogger(QueryGatherer.class);

    private final GatherSettings settings;
    private final GatherStore store;
    private final ScorerRouter scorers;
    private final LongSupplier clock;
    private final GatherListener listener;
    private final ScoringQueue queue;
    private final Outcomes outcomes;
    private final UpstreamWatermarks watermarks;
    private final QueryTraces traces;
    private int pending;
    /** Wall clock: when this task (re)started or the input resumed after a pause, and its last deadline check. */
    private long activeSinceMs;
    private long lastCheckMs;
    private long lowWatermark = Long.MIN_VALUE;

    /** @param upstream the input partitions ({@link Watermark#source}) that can feed this task */
    QueryGatherer(GatherSettings settings, GatherStore store, ScorerRouter scorers, LongSupplier clock, GatherListener listener,
                  Outcomes outcomes, ScoringBacklog.Task counts, Set<String> upstream) {
        this(settings, store, scorers, clock, listener, outcomes, counts, upstream, QueryTraces.OFF);
    }

    /** @param traces this task's query spans ({@link QueryTraces#OFF} without tracing) */
    QueryGatherer(GatherSettings settings, GatherStore store, ScorerRouter scorers, LongSupplier clock, GatherListener listener,
                  Outcomes outcomes, ScoringBacklog.Task counts, Set<String> upstream, QueryTraces traces) {
        this.settings = settings;
        this.traces = traces;
        this.store = store;
        this.scorers = scorers;
        this.clock = clock;
        this.listener = listener;
        this.outcomes = outcomes;
        this.queue = new ScoringQueue(settings, store, scorers, clock, counts, listener, traces);
        this.watermarks = new UpstreamWatermarks(upstream, settings.watermarkMaxHold().toMillis());
    }

    /** Derives this task's counts and queue from its stores; returns what can be written out at once. */
    List<Outcome> start() {
        pending = store.countDeadlines();
        listener.pendingChanged(pending);
        int ready = queue.restore();
        if (ready > 0) {
            LOG.info("{} queries were ready or being scored when this task last stopped; handing them to the model again", ready);
        }
        activeSinceMs = lastCheckMs = clock.getAsLong();
        return poll();
    }

    /**
     * Admits one candidate, as read and validated ({@link CandidateReader}), with its record as produced.
     *
     * @throws BadRecordException when the candidate alone is at fault (late, unknown model, model conflict)
     */
    List<Outcome> admit(StoredCandidate stored, long recordTimestamp) {
        RetrievalCandidate candidate = stored.getCandidate();
        String queryId = candidate.getQueryId();
        long now = clock.getAsLong();
        QueryState query = store.query(queryId);
        if (query != null && query.getEmittedMillis() != null) {
            throw traces.rejected(new LateCandidateException("candidate " + candidate.getDocId() + " of query " + queryId
                    + " arrived after the query was emitted at " + Instant.ofEpochMilli(query.getEmittedMillis())), queryId, stored);
        }
        if (query == null) {
            try {
                scorers.forModel(candidate.getModel());
            } catch (UnknownModelException e) {
                throw traces.rejected(e, queryId, stored);  // this record's fault alone
            }
        } else if (!sameModel(query.getModel(), candidate.getModel())) {
            throw traces.rejected(new ModelConflictException("candidate " + candidate.getDocId() + " of query " + queryId + " names model "
                    + describe(candidate.getModel()) + " but the query's first candidate named " + describe(query.getModel())
                    + "; a query is scored by one model, so this candidate alone goes to the dead-letter topic"), queryId, stored);
        }
        boolean duplicate = query != null && store.hasCandidate(queryId, candidate.getDocId());

        // From here on the stores change.
        boolean first = query == null;
        if (first) {
            if (pending >= settings.maxPendingQueries()) {
                readyOldest(now);
            }
            query = QueryState.newBuilder().setQueryId(queryId).setQuery(candidate.getQuery())
                    .setFirstSeenMillis(firstTime(recordTimestamp, now)).setReceived(0).setModel(candidate.getModel())
                    .setTopK(candidate.getTopK()).setExpected(candidate.getCandidateCount()).build();
            store.addDeadline(queryId, deadline(query), Watermark.source(stored.getSource().getTopic(), stored.getSource().getPartition()));
            pending++;
            listener.pendingChanged(1);
        } else if (conflicts(query, candidate)) {
            // First wins: the candidate is still a fair candidate for the query, and dropping it for a
            // difference in a repeated field would lose it; the count in the result lets a producer see it.
            query.setConflicts(query.getConflicts() + 1);
        }
        traces.candidate(query, first, stored);
        if (duplicate) {
            query.setDuplicates(query.getDuplicates() + 1);
            store.putQuery(query);
            return poll();
        }
        store.putCandidate(queryId, candidate.getDocId(), stored);
        query.setReceived(query.getReceived() + 1);
        if (query.getExpected() == null) {
            query.setExpected(candidate.getCandidateCount());
        }
        if (query.getTopK() == null) {
            query.setTopK(candidate.getTopK());
        }
        Integer expected = query.getExpected();
        if (expected != null && query.getReceived() >= expected) {
            ready(query, true, recordTimestamp, now);
        } else if (query.getReceived() >= settings.maxCandidatesPerQuery()) {
            LOG.warn("Query {} reached gather.max.candidates.per.query={} before its candidate_count {}; emitting it incomplete",
                    queryId, settings.maxCandidatesPerQuery(), expected);
            ready(query, false, recordTimestamp, now);
        } else {
            store.putQuery(query);
        }
        return poll();
    }

    /** A watermark of one input partition; deadlines it lets pass are checked at once. */
    List<Outcome> watermark(Watermark watermark) {
        long now = clock.getAsLong();
        watermarks.observe(watermark.source(), watermark.millis(), now);
        long low = watermarks.low(now, activeSinceMs);
        return low > lowWatermark ? expire() : poll();
    }

    /**
     * Gathering queries whose max wait has passed become ready, incomplete; emitted queries older than
     * gather.emitted.retention.ms are forgotten. A query's max wait passes when the wall clock and the low
     * watermark of every input partition that can feed it ({@link UpstreamWatermarks}) are past its
     * first candidate's time plus gather.max.wait.ms. An input partition silent for
     * gather.watermark.max.hold.ms is left out of that low watermark, counted from this task's start, the
     * input's resume after a pause, or a gap in this task's checks (a thread held up), whichever is last:
     * during those this task could not hear from it.
     */
    List<Outcome> expire() {
        long now = clock.getAsLong();
        if (now - lastCheckMs > 2 * Watermark.HEARTBEAT_MS) {
            activeSinceMs = now;
        }
        long resumed = scorers.inputResumedAtMs();
        if (resumed > activeSinceMs && resumed <= now) {
            activeSinceMs = resumed;
        }
        lastCheckMs = now;
        lowWatermark = watermarks.low(now, activeSinceMs);
        long upTo = Math.min(now, lowWatermark);
        for (GatherStore.Deadline due : store.deadlinesUpTo(upTo)) {
            QueryState query = store.query(due.queryId());
            if (query == null || query.getEmittedMillis() != null) {
                store.removeDeadline(due.queryId(), due.at());
            } else {
                readyAt(query, false, now, now, due.at());
            }
        }
        for (GatherStore.Expiry expiry : store.expiriesUpTo(now)) {
            store.removeExpiry(expiry);
            QueryState query = store.query(expiry.queryId());
            if (query != null && query.getEmittedMillis() != null) {
                store.deleteQuery(expiry.queryId());
            }
        }
        return poll();
    }

    /**
     * Hands waiting queries to the model and writes out those whose scores are in, until neither moves:
     * a model that answers at once (a test's, or one that refuses at once) is done within one call.
     */
    List<Outcome> poll() {
        List<Outcome> out = new ArrayList<>();
        int handedBack = 0;
        Throwable why = null;
        boolean wrote = true;
        while (wrote) {
            wrote = false;
            queue.handOver();
            for (ScoringQueue.InFlight done : queue.done()) {
                Throwable failure = done.failure;
                if (failure != null && (Failures.engineUnavailable(failure) || failure instanceof java.util.concurrent.CancellationException)) {
                    // Not the query's fault: it keeps its mark and waits for its model (the input is paused meanwhile).
                    int attempts = queue.handBack(done);
                    handedBack++;
                    why = failure;
                    if (attempts > 1) {
                        LOG.warn("Query {} could not be scored {} times in a row ({}); handing it over again in {} ms",
                                done.query.getQueryId(), attempts, failure.getMessage(), ScoringQueue.backoff(attempts));
                    }
                } else {
                    wrote |= write(done, out);
                }
            }
        }
        if (handedBack > 0) {
            LOG.warn("{} queries could not be scored now ({}); they keep their place and are handed over again once their model takes"
                    + " work", handedBack, why.getMessage());
        }
        return out;
    }

    /** Builds a scored query's outcome and, once that worked, ends the query in the store; false when it must wait. */
    private boolean write(ScoringQueue.InFlight done, List<Outcome> out) {
        String reason = null;
        List<Outcome> written;
        long writeNanos = traces.writing();
        try {
            if (done.failure == null) {
                written = outcomes.result(done);
            } else {
                reason = done.failure instanceof UnknownModelException ? DeadLetters.REASON_UNKNOWN_MODEL : DeadLetters.REASON_SCORING_FAILED;
                written = outcomes.deadLetters(done, reason, done.failure);
            }
        } catch (RuntimeException e) {
            // Nothing changed yet: the query keeps its mark and its scores, and is written again after a backoff.
            long pause = queue.retryWrite(done);
            LOG.warn("The outcome of query {} cannot be written now ({}); trying again in {} ms", done.query.getQueryId(), e.toString(), pause);
            listener.transientFault(e);
            return false;
        }
        String queryId = done.query.getQueryId();
        long now = clock.getAsLong();
        done.gathered.forEach(g -> store.deleteCandidate(g.key()));
        store.unmarkReady(queryId);
        store.addExpiry(queryId, now + settings.emittedRetention().toMillis());
        queue.written(done);
        traces.written(done, writeNanos, written, reason);
        out.addAll(written);
        if (reason != null) {
            DeadLetterLog.deadLetter(reason, "query " + queryId + " (" + done.gathered.size() + " candidates)", done.failure.getMessage(),
                    done.failure);
            listener.deadLettered(reason, done.gathered.size());
        } else {
            listener.queryEmitted(done.scoring.modelName(), done.gathered.size(), done.scoringMs(), now - done.query.getFirstSeenMillis(),
                    done.mark.complete());
        }
        return true;
    }

    /** Makes room under gather.max.pending.queries: the query waiting longest becomes ready now, incomplete. */
    private void readyOldest(long now) {
        GatherStore.Deadline oldest = store.earliestDeadline();
        QueryState query = oldest == null ? null : store.query(oldest.queryId());
        if (query != null && query.getEmittedMillis() == null) {
            LOG.warn("gather.max.pending.queries={} reached; emitting the oldest pending query {} incomplete", settings.maxPendingQueries(),
                    query.getQueryId());
            readyAt(query, false, now, now, oldest.at());
        }
    }

    private void ready(QueryState query, boolean complete, long timestamp, long now) {
        readyAt(query, complete, timestamp, now, deadline(query));
    }

    /**
     * Ends a query's gathering: it is marked ready in the store, with its candidates still there, in the
     * same transaction as the input that made it ready, and queued for the model. If the task stops before
     * its outcome is written, whoever runs the task next hands it over again from the mark.
     */
    private void readyAt(QueryState query, boolean complete, long timestamp, long now, long deadline) {
        store.removeDeadline(query.getQueryId(), deadline);
        pending--;
        listener.pendingChanged(-1);
        query.setEmittedMillis(now);
        store.putQuery(query);
        GatherStore.Ready mark = new GatherStore.Ready(query.getQueryId(), complete, timestamp);
        store.markReady(mark);
        traces.ready(query, complete);
        queue.add(query, mark);
    }

    private long deadline(QueryState query) {
        return query.getFirstSeenMillis() + settings.maxWait().toMillis();
    }

    /** Whether two candidates' model fields pick the same model (null is the default model, by name or not). */
    private boolean sameModel(String a, String b) {
        if (Objects.equals(a, b)) {
            return true;
        }
        try {
            return scorers.forModel(a).modelName().equals(scorers.forModel(b).modelName());
        } catch (UnknownModelException e) {
            return false;
        }
    }

    private static String describe(String model) {
        return model == null ? "none (the default model)" : "'" + model + "'";
    }

    /** A later candidate's repeated fields differ from those the query took from its first. */
    private static boolean conflicts(QueryState query, RetrievalCandidate candidate) {
        return !query.getQuery().equals(candidate.getQuery())
                || (query.getTopK() != null && candidate.getTopK() != null && !query.getTopK().equals(candidate.getTopK()))
                || (query.getExpected() != null && candidate.getCandidateCount() != null && !query.getExpected().equals(candidate.getCandidateCount()));
    }

    /**
     * A query's time is its first candidate's record timestamp, but never ahead of this node's clock: a
     * producer whose clock runs ahead would otherwise hold its queries back until the wall clock caught up.
     */
    private static long firstTime(long recordTimestamp, long now) {
        return recordTimestamp >= 0 ? Math.min(recordTimestamp, now) : now;
    }

    /** This task stops: its queries leave the process-wide gauge, and its scoring is dropped (see ScoringQueue#close). */
    void close() {
        listener.pendingChanged(-pending);
        pending = 0;
        queue.close();
        traces.close();
    }

    /** What this step wrote was forwarded: the spans of those queries end (see {@link QueryTraces#forwarded}). */
    void forwarded() {
        traces.forwarded();
    }
}
