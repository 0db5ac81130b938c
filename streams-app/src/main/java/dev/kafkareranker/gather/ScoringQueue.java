package dev.kafkareranker.gather;

import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.inference.Scorer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;

/**
 * One task's ready queries on their way through the model: those waiting (marked in the store, in the
 * order they became ready) and those handed over, at most gather.max.in.flight.queries at a time, each
 * handed over only while its model takes work and has room. Nothing here waits: a scoring's end is noted
 * by the engine's thread and picked up by the stream thread at its next look ({@link #done}).
 *
 * <p>All of it is derived from the store's ready marks ({@link #restore}): a task that stops and starts
 * again, here or elsewhere, hands its ready queries over again in the same order.
 */
final class ScoringQueue {

    /** The first pause before a query the model could not score is handed over again; it doubles per attempt up to the max. */
    static final long RETRY_BACKOFF_MS = 1_000;
    static final long RETRY_BACKOFF_MAX_MS = 30_000;

    /** A query with the model: what its result needs once the scores are in, which the engine's thread sets once. */
    static final class InFlight {
        final QueryState query;
        final GatherStore.Ready mark;
        final List<GatherStore.Gathered> gathered;
        final long startNanos;
        /** Times the model could not score it before (refused, timed out). */
        final int modelAttempts;
        /** The engine's own future, kept for cancelling: cancelling one derived from it would not reach the engine. */
        final CompletableFuture<Scorer.Scoring> submitted;
        volatile boolean done;
        volatile Scorer.Scoring scoring;
        volatile Throwable failure;
        volatile long doneNanos;
        /** Writing its outcome failed this often (the registry); not again before {@link #writeNotBefore}. */
        int writeAttempts;
        long writeNotBefore = Long.MIN_VALUE;

        InFlight(QueryState query, GatherStore.Ready mark, List<GatherStore.Gathered> gathered, int modelAttempts, long startNanos,
                 CompletableFuture<Scorer.Scoring> submitted) {
            this.query = query;
            this.modelAttempts = modelAttempts;
            this.mark = mark;
            this.gathered = gathered;
            this.submitted = submitted;
            this.startNanos = startNanos;
        }

        long scoringMs() {
            return (doneNanos - startNanos) / 1_000_000;
        }
    }

    /** Waiting queries sort by when they became ready, so one handed back (its model refused it) keeps its place. */
    private record Place(long readyMillis, String queryId) implements Comparable<Place> {
        @Override
        public int compareTo(Place o) {
            int byTime = Long.compare(readyMillis, o.readyMillis);
            return byTime != 0 ? byTime : queryId.compareTo(o.queryId);
        }
    }

    /** A waiting query: its mark, its model (so that a look at whether it can go reads nothing from the store), its attempts. */
    private record Waiting(GatherStore.Ready mark, String model, int attempts, long notBefore) {}

    private final GatherSettings settings;
    private final GatherStore store;
    private final ScorerRouter scorers;
    private final LongSupplier clock;
    private final ScoringBacklog.Task counts;
    /** Told of every query that enters or leaves {@link #inFlight}: the in-flight gauge. */
    private final GatherListener listener;
    private final QueryTraces traces;
    private final TreeMap<Place, Waiting> waiting = new TreeMap<>();
    /** In the order they were handed over; results go out as soon as each is scored. */
    private final Map<String, InFlight> inFlight = new LinkedHashMap<>();

    ScoringQueue(GatherSettings settings, GatherStore store, ScorerRouter scorers, LongSupplier clock, ScoringBacklog.Task counts,
                 GatherListener listener, QueryTraces traces) {
        this.settings = settings;
        this.traces = traces;
        this.listener = listener;
        this.store = store;
        this.scorers = scorers;
        this.clock = clock;
        this.counts = counts;
    }

    /** Derives the queue from the store's ready marks; returns how many there were. */
    int restore() {
        waiting.clear();
        clearInFlight();
        for (GatherStore.Ready mark : store.readyMarks()) {
            QueryState query = store.query(mark.queryId());
            if (query == null) {
                store.unmarkReady(mark.queryId());  // its state is gone: nothing to score
                continue;
            }
            waiting.put(place(query), new Waiting(mark, query.getModel(), 0, Long.MIN_VALUE));
        }
        counts.waiting.set(waiting.size());
        return waiting.size();
    }

    /** A query that just became ready ({@code query} has its emitted time, the store its mark). */
    void add(QueryState query, GatherStore.Ready mark) {
        waiting.put(place(query), new Waiting(mark, query.getModel(), 0, Long.MIN_VALUE));
        counts.waiting.incrementAndGet();
    }

    private static Place place(QueryState query) {
        return new Place(query.getEmittedMillis() == null ? Long.MIN_VALUE : query.getEmittedMillis(), query.getQueryId());
    }

    /**
     * Hands waiting queries over, oldest first, while there is room in flight and their model takes work.
     * Looks at most at a few caps' worth of queries that must wait on: this runs every millisecond.
     */
    void handOver() {
        long now = clock.getAsLong();
        int passed = 0;
        for (Iterator<Map.Entry<Place, Waiting>> it = waiting.entrySet().iterator();
             it.hasNext() && inFlight.size() < settings.maxInFlightQueries() && passed < 4 * settings.maxInFlightQueries(); ) {
            Waiting next = it.next().getValue();
            if (next.notBefore() > now) {
                passed++;
                continue;
            }
            Scorer scorer = null;
            RuntimeException unknown = null;
            try {
                scorer = scorers.forModel(next.model());
            } catch (RuntimeException e) {
                unknown = e;  // its model is gone: handed over as failed, its candidates become dead letters
            }
            if (scorer != null && (!scorer.accepting() || !scorer.hasRoom())) {
                passed++;
                continue;  // waits in the store; the input gate pauses the input meanwhile
            }
            QueryState query = store.query(next.mark().queryId());
            it.remove();
            counts.waiting.decrementAndGet();
            if (query == null) {
                store.unmarkReady(next.mark().queryId());
            } else {
                start(query, next, scorer, unknown);
            }
        }
    }

    private void start(QueryState query, Waiting next, Scorer scorer, RuntimeException unknown) {
        // Only the decoded candidates are held while the model runs; the records as produced stay in the store,
        // where the outcome reads them should the scoring fail.
        List<GatherStore.Gathered> gathered = store.candidates(query.getQueryId());
        // Scoring time counts from the hand-over: whatever the scorer does on this thread (tokenizing) is the model's.
        long start = System.nanoTime();
        CompletableFuture<Scorer.Scoring> submitted;
        if (unknown != null) {
            submitted = CompletableFuture.failedFuture(unknown);
        } else {
            List<String> passages = new ArrayList<>(gathered.size());
            gathered.forEach(g -> passages.add(g.stored().getCandidate().getText()));
            try {
                submitted = scorer.scoreQueryAsync(query.getQuery(), passages, traces.handingOver(query));
            } catch (RuntimeException e) {
                submitted = CompletableFuture.failedFuture(e);
            }
        }
        InFlight handed = new InFlight(query, next.mark(), gathered, next.attempts(), start, submitted);
        inFlight.put(query.getQueryId(), handed);
        listener.inFlightChanged(1);
        counts.unfinished.incrementAndGet();
        submitted.whenComplete((scoring, failure) -> {
            handed.doneNanos = System.nanoTime();
            handed.scoring = scoring;
            handed.failure = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            handed.done = true;
            counts.unfinished.decrementAndGet();
        });
    }

    /** The handed-over queries whose scoring ended and whose outcome may be written now, in hand-over order. */
    List<InFlight> done() {
        long now = clock.getAsLong();
        List<InFlight> out = new ArrayList<>();
        for (InFlight f : inFlight.values()) {
            if (f.done && f.writeNotBefore <= now) {
                out.add(f);
            }
        }
        return out;
    }

    /** Its outcome was written: it leaves the queue. */
    void written(InFlight f) {
        if (inFlight.remove(f.query.getQueryId()) != null) {
            listener.inFlightChanged(-1);
        }
    }

    /**
     * The model could not score it now (refused, timed out, closed): it waits again in its place, handed
     * over once its model takes work and after a backoff that doubles with each attempt. Returns the attempts so far.
     */
    int handBack(InFlight f) {
        if (inFlight.remove(f.query.getQueryId()) != null) {
            listener.inFlightChanged(-1);
        }
        int attempts = f.modelAttempts + 1;
        waiting.put(place(f.query), new Waiting(f.mark, f.query.getModel(), attempts, clock.getAsLong() + backoff(attempts)));
        counts.waiting.incrementAndGet();
        return attempts;
    }

    /** Writing its outcome failed for now (the registry): kept with its scores and written again after a backoff. */
    long retryWrite(InFlight f) {
        f.writeAttempts++;
        long pause = backoff(f.writeAttempts);
        f.writeNotBefore = clock.getAsLong() + pause;
        return pause;
    }

    static long backoff(int attempts) {
        return Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS << Math.min(attempts - 1, 16));
    }

    int inFlight() {
        return inFlight.size();
    }

    /** Empties the in-flight map, taking its queries off the process-wide gauge: whoever runs the task next counts them again. */
    private void clearInFlight() {
        listener.inFlightChanged(-inFlight.size());
        inFlight.clear();
    }

    int waiting() {
        return waiting.size();
    }

    /**
     * Queries handed over are not waited for: a later task (this one revived, or another instance's) hands
     * them over again from their marks. Their futures are cancelled so that the engine drops their rows not
     * yet run instead of scoring for a task that is gone.
     */
    void close() {
        inFlight.values().forEach(f -> f.submitted.cancel(false));
        clearInFlight();
        waiting.clear();
        counts.waiting.set(0);
        counts.unfinished.set(0);
    }
}
