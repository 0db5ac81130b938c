package dev.kafkareranker.gather;

import dev.kafkareranker.avro.ModelInfo;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.inference.Scorer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers a query's candidates in changelogged stores and, once the query is complete (its
 * {@code candidate_count} distinct documents arrived) or its max wait has passed, hands it to the
 * model and, once scored, ranks and forwards it: {@link RankedResults} for the results topic, and candidates that cannot be part of a
 * result (late, unknown model, model failure) as dead letters; the topology routes the two by type.
 *
 * <p>State is kept in three stores so that no changelog record grows with the query: one small
 * {@link QueryState} per query, one entry per candidate (key {@code query_id NUL doc_id}, found by
 * prefix scan), and deadlines keyed so that they sort by time, so the punctuator reads only the
 * expired prefix. An emitted query's state stays for {@code emittedRetention} to recognise late
 * candidates.
 *
 * <p>With {@code overlapScoring} (a GPU), scoring does not hold the stream thread: while the model runs,
 * the thread goes on gathering (and feeding the engine other queries to batch with), which also keeps
 * transactions short however slow the model is. Without it (a CPU, whose cores the model needs), the
 * thread waits for each query's scores. Either way a query being scored is marked in the store, so
 * exactly-once survives a stop in between.
 */
final class GatherProcessor implements Processor<String, RetrievalCandidate, String, SpecificRecord> {

    private static final Logger LOG = LoggerFactory.getLogger(GatherProcessor.class);
    private static final String SEPARATOR = "\u0000";
    /** Max-wait deadlines of gathering queries. */
    private static final String WAIT = "W|";
    /** Expiry of emitted queries' state. */
    private static final String EXPIRE = "E|";
    /** Queries with the model; the value is the completeness mark and the record timestamp of the result. */
    private static final String SCORING = "S|";
    private static final String COMPLETE = "C|";
    private static final String INCOMPLETE = "I|";
    /** How often the stream thread looks for scored queries: each look is a check of a few futures. */
    private static final Duration FORWARD_INTERVAL = Duration.ofMillis(1);

    private final GatherSettings settings;
    private final ScorerRouter scorers;
    private final RerankTopology.StoreNames stores;
    private final GatherListener listener;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, QueryState> queries;
    private KeyValueStore<String, RetrievalCandidate> candidates;
    private KeyValueStore<String, String> deadlines;
    private int pendingQueries;
    /** In the order they were handed over; results go out as soon as each is scored. */
    private final Map<String, InFlight> inFlight = new LinkedHashMap<>();

    GatherProcessor(GatherSettings settings, ScorerRouter scorers, RerankTopology.StoreNames stores, GatherListener listener) {
        this.settings = settings;
        this.scorers = scorers;
        this.stores = stores;
        this.listener = listener;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.queries = context.getStateStore(stores.queries());
        this.candidates = context.getStateStore(stores.candidates());
        this.deadlines = context.getStateStore(stores.deadlines());
        // Stores are restored before init: the pending count is derived from them, never kept apart.
        try (KeyValueIterator<String, String> it = deadlines.prefixScan(WAIT, new StringSerializer())) {
            while (it.hasNext()) {
                it.next();
                pendingQueries++;
            }
        }
        listener.pendingChanged(pendingQueries);
        resubmitInterruptedScoring();
        context.schedule(settings.punctuateInterval(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
        if (settings.overlapScoring()) {
            context.schedule(FORWARD_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> forwardScored());
        }
    }

    /** Queries that were with the model when this task last stopped (crash, rebalance) are scored again. */
    private void resubmitInterruptedScoring() {
        List<KeyValue<String, String>> marks = new ArrayList<>();
        try (KeyValueIterator<String, String> it = deadlines.prefixScan(SCORING, new StringSerializer())) {
            it.forEachRemaining(marks::add);
        }
        for (KeyValue<String, String> mark : marks) {
            String queryId = mark.key.substring(SCORING.length());
            QueryState query = queries.get(queryId);
            if (query == null) {
                deadlines.delete(mark.key);
                continue;
            }
            LOG.info("Query {} was being scored when its task last stopped; scoring it again", queryId);
            inFlight.put(queryId, submit(query, mark.value.startsWith(COMPLETE), Long.parseLong(mark.value.substring(COMPLETE.length())), true));
        }
    }

    @Override
    public void process(Record<String, RetrievalCandidate> record) {
        RetrievalCandidate candidate = cap(validate(record.value()));
        String queryId = candidate.getQueryId();
        long now = context.currentSystemTimeMs();
        QueryState query = queries.get(queryId);
        if (query != null && query.getEmittedMillis() != null) {
            lateCandidate(record, candidate, query);
            return;
        }
        if (query == null) {
            if (pendingQueries >= settings.maxPendingQueries()) {
                emitOldest();
            }
            query = QueryState.newBuilder()
                    .setQueryId(queryId)
                    .setQuery(candidate.getQuery())
                    .setFirstSeenMillis(now)
                    .setReceived(0)
                    .build();
            deadlines.put(deadlineKey(WAIT, now + settings.maxWait().toMillis(), queryId), queryId);
            pendingQueries++;
            listener.pendingChanged(1);
        }
        String key = queryId + SEPARATOR + candidate.getDocId();
        if (candidates.get(key) != null) {
            query.setDuplicates(query.getDuplicates() + 1);
            queries.put(queryId, query);
            return;
        }
        candidates.put(key, candidate);
        query.setReceived(query.getReceived() + 1);
        if (query.getExpected() == null) {
            query.setExpected(candidate.getCandidateCount());
        }
        if (query.getModel() == null) {
            query.setModel(candidate.getModel());
        }
        if (query.getTopK() == null) {
            query.setTopK(candidate.getTopK());
        }
        Integer expected = query.getExpected();
        if (expected != null && query.getReceived() >= expected) {
            emit(query, true, record.timestamp());
        } else if (query.getReceived() >= settings.maxCandidatesPerQuery()) {
            LOG.warn("Query {} reached gather.max.candidates.per.query={} before its candidate_count {}; emitting it incomplete",
                    queryId, settings.maxCandidatesPerQuery(), expected);
            emit(query, false, record.timestamp());
        } else {
            queries.put(queryId, query);
        }
        forwardScored();
    }

    private static RetrievalCandidate validate(RetrievalCandidate candidate) {
        if (candidate == null) {
            throw new InvalidCandidateException("null value (a tombstone?) on the candidates topic: a candidate needs a RetrievalCandidate value");
        }
        if (candidate.getQueryId().isBlank()) {
            throw new InvalidCandidateException("candidate " + candidate.getDocId() + " has a blank query_id");
        }
        if (candidate.getDocId().isBlank()) {
            throw new InvalidCandidateException("candidate of query " + candidate.getQueryId() + " has a blank doc_id");
        }
        if (candidate.getQuery().isBlank()) {
            throw new InvalidCandidateException("candidate " + candidate.getDocId() + " of query " + candidate.getQueryId() + " has a blank query");
        }
        if (candidate.getText().isBlank()) {
            throw new InvalidCandidateException("candidate " + candidate.getDocId() + " of query " + candidate.getQueryId() + " has a blank text");
        }
        return candidate;
    }

    /**
     * Cuts texts to gather.max.passage.chars before they enter the store: a model reads at most its
     * max length in tokens, so beyond that the characters only cost state and changelog bytes.
     */
    private RetrievalCandidate cap(RetrievalCandidate candidate) {
        int max = settings.maxPassageChars();
        if (candidate.getText().length() > max) {
            LOG.warn("Candidate {} of query {} has {} characters; keeping the first gather.max.passage.chars={}",
                    candidate.getDocId(), candidate.getQueryId(), candidate.getText().length(), max);
            candidate.setText(candidate.getText().substring(0, max));
        }
        if (candidate.getQuery().length() > max) {
            candidate.setQuery(candidate.getQuery().substring(0, max));
        }
        return candidate;
    }

    private void lateCandidate(Record<String, RetrievalCandidate> record, RetrievalCandidate candidate, QueryState query) {
        LateCandidateException late = new LateCandidateException("candidate " + candidate.getDocId() + " of query "
                + candidate.getQueryId() + " arrived after the query was emitted at " + Instant.ofEpochMilli(query.getEmittedMillis()));
        LOG.warn("{}; it goes to the dead-letter topic", late.getMessage());
        var headers = context.recordMetadata()
                .map(source -> DeadLetters.headers(DeadLetters.REASON_LATE, late, source))
                .orElseGet(() -> DeadLetters.headers(DeadLetters.REASON_LATE, late));
        context.forward(new Record<>(candidate.getQueryId(), (SpecificRecord) candidate, record.timestamp(), headers));
        listener.deadLettered(DeadLetters.REASON_LATE, 1);
    }

    private void punctuate(long now) {
        for (KeyValue<String, String> entry : expired(WAIT, now)) {
            QueryState query = queries.get(entry.value);
            if (query == null || query.getEmittedMillis() != null) {
                deadlines.delete(entry.key);
            } else {
                emit(query, false, now);
            }
        }
        for (KeyValue<String, String> entry : expired(EXPIRE, now)) {
            deadlines.delete(entry.key);
            QueryState query = queries.get(entry.value);
            if (query != null && query.getEmittedMillis() != null) {
                queries.delete(entry.value);
            }
        }
        forwardScored();
    }

    private List<KeyValue<String, String>> expired(String prefix, long now) {
        List<KeyValue<String, String>> out = new ArrayList<>();
        try (KeyValueIterator<String, String> it = deadlines.range(deadlineKey(prefix, 0, ""), deadlineKey(prefix, now, "\uffff"))) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    /** Makes room under gather.max.pending.queries: the query waiting longest goes out now, incomplete. */
    private void emitOldest() {
        try (KeyValueIterator<String, String> it = deadlines.prefixScan(WAIT, new StringSerializer())) {
            while (it.hasNext()) {
                KeyValue<String, String> entry = it.next();
                QueryState oldest = queries.get(entry.value);
                if (oldest != null && oldest.getEmittedMillis() == null) {
                    LOG.warn("gather.max.pending.queries={} reached; emitting the oldest pending query {} incomplete",
                            settings.maxPendingQueries(), oldest.getQueryId());
                    // The iterator is closed before emit changes the store it reads.
                    it.close();
                    emit(oldest, false, context.currentSystemTimeMs());
                    return;
                }
            }
        }
    }

    /**
     * Ends a query's gathering and hands it to the model. The query is marked as being scored in the
     * store, with its candidates still there, in the same transaction as the input that completed it: if
     * the task stops before the result is forwarded, whoever runs the task next scores it again from the
     * store (see init), and the result, the candidates' deletion and the mark's removal commit together.
     */
    private void emit(QueryState query, boolean complete, long timestamp) {
        waitForRoomInFlight();
        String queryId = query.getQueryId();
        long now = context.currentSystemTimeMs();
        deadlines.delete(deadlineKey(WAIT, query.getFirstSeenMillis() + settings.maxWait().toMillis(), queryId));
        pendingQueries--;
        listener.pendingChanged(-1);
        query.setEmittedMillis(now);
        queries.put(queryId, query);
        if (settings.overlapScoring()) {
            deadlines.put(SCORING + queryId, (complete ? COMPLETE : INCOMPLETE) + timestamp);
            inFlight.put(queryId, submit(query, complete, timestamp, true));
        } else {
            // Scored and forwarded within this record's processing: no mark is needed, and the commit comes
            // at the interval as for any record.
            InFlight scored = submit(query, complete, timestamp, false);
            scored.scoring().handle((result, failure) -> null).join();
            forward(scored);
        }
    }

    /** Hands the query's gathered candidates to its model; {@code marked}: the store holds its being-scored mark. */
    private InFlight submit(QueryState query, boolean complete, long timestamp, boolean marked) {
        String queryId = query.getQueryId();
        List<RetrievalCandidate> gathered = new ArrayList<>(query.getReceived());
        List<String> keys = new ArrayList<>(query.getReceived());
        // Prefix order is doc-id order: a fixed order keeps a query's own batches the same whatever the
        // arrival order was. A dynamically quantized model can still move by about 1e-3 when the engine
        // merges this query's pairs with another's (its activation scale spans the whole batch).
        try (KeyValueIterator<String, RetrievalCandidate> it = candidates.prefixScan(queryId + SEPARATOR, new StringSerializer())) {
            it.forEachRemaining(kv -> {
                keys.add(kv.key);
                gathered.add(kv.value);
            });
        }
        long start = System.nanoTime();
        AtomicLong done = new AtomicLong();
        CompletableFuture<Scorer.Scoring> scoring;
        try {
            Scorer scorer = scorers.forModel(query.getModel());
            List<String> passages = new ArrayList<>(gathered.size());
            for (RetrievalCandidate c : gathered) {
                passages.add(c.getText());
            }
            scoring = scorer.scoreQueryAsync(query.getQuery(), passages);
        } catch (RuntimeException e) {
            scoring = CompletableFuture.failedFuture(e);
        }
        scoring = scoring.whenComplete((result, failure) -> done.set(System.nanoTime()));
        return new InFlight(query, gathered, keys, complete, timestamp, marked, start, done, scoring);
    }

    /** Caps memory when the model is slower than the input: the stream thread waits for its oldest query. */
    private void waitForRoomInFlight() {
        forwardScored();
        if (inFlight.size() >= settings.maxInFlightQueries()) {
            InFlight oldest = inFlight.values().iterator().next();
            oldest.scoring().handle((result, failure) -> null).join();
            forwardScored();
        }
    }

    /** Forwards every query whose scores are in, and asks for a commit so its result is visible at once. */
    private void forwardScored() {
        boolean forwarded = false;
        for (Iterator<InFlight> it = inFlight.values().iterator(); it.hasNext(); ) {
            InFlight query = it.next();
            if (query.scoring().isDone()) {
                it.remove();
                forward(query);
                forwarded = true;
            }
        }
        if (forwarded) {
            context.commit();
        }
    }

    private void forward(InFlight done) {
        QueryState query = done.query();
        String queryId = query.getQueryId();
        long now = context.currentSystemTimeMs();
        done.keys().forEach(candidates::delete);
        // By the mark, not the current setting: a query marked under overlap=on and rescored after a restart
        // with it off must still lose its mark, or every later restart would score it again.
        if (done.marked()) {
            deadlines.delete(SCORING + queryId);
        }
        deadlines.put(deadlineKey(EXPIRE, now + settings.emittedRetention().toMillis(), queryId), queryId);
        Scorer.Scoring scoring;
        try {
            scoring = done.scoring().join();
        } catch (CompletionException | CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String reason = cause instanceof UnknownModelException ? DeadLetters.REASON_UNKNOWN_MODEL : DeadLetters.REASON_SCORING_FAILED;
            deadLetter(query, done.gathered(), reason, cause, done.timestamp());
            return;
        }
        long scoringMs = (done.doneNanos().get() - done.startNanos()) / 1_000_000;
        List<RetrievalCandidate> gathered = done.gathered();
        List<RankedDocument> ranked = Ranking.rank(gathered, scoring.scores(), query.getTopK() != null ? query.getTopK() : settings.defaultTopK());
        RankedResults results = RankedResults.newBuilder()
                .setQueryId(queryId)
                .setQuery(query.getQuery())
                .setResults(ranked)
                .setModel(new ModelInfo(scoring.modelName(), scoring.modelVersion()))
                .setComplete(done.complete())
                .setCandidatesReceived(gathered.size())
                .setCandidatesExpected(query.getExpected())
                .setDuplicates(query.getDuplicates())
                .setFirstCandidateTime(Instant.ofEpochMilli(query.getFirstSeenMillis()))
                .setEmittedTime(Instant.ofEpochMilli(query.getEmittedMillis()))
                .setScoringMs(scoringMs)
                .build();
        context.forward(new Record<>(queryId, (SpecificRecord) results, done.timestamp(), new RecordHeaders()));
        listener.queryEmitted(scoring.modelName(), gathered.size(), scoringMs, now - query.getFirstSeenMillis(), done.complete());
    }

    /** A query with the model: what its result needs once the scores are in. */
    private record InFlight(QueryState query, List<RetrievalCandidate> gathered, List<String> keys, boolean complete,
                            long timestamp, boolean marked, long startNanos, AtomicLong doneNanos, CompletableFuture<Scorer.Scoring> scoring) {}

    /** Queries handed to the model by this task are not waited for: a later task may finish them. */
    @Override
    public void close() {
        inFlight.clear();
    }

    private void deadLetter(QueryState query, List<RetrievalCandidate> gathered, String reason, Throwable cause, long timestamp) {
        LOG.warn("Query {} ({} candidates) goes to the dead-letter topic: {}: {}",
                query.getQueryId(), gathered.size(), reason, cause.getMessage());
        for (RetrievalCandidate c : gathered) {
            context.forward(new Record<>(query.getQueryId(), (SpecificRecord) c, timestamp, DeadLetters.headers(reason, cause)));
        }
        listener.deadLettered(reason, gathered.size());
    }

    /** Sorts by time as text within a prefix: 19 digits cover every non-negative long. */
    static String deadlineKey(String prefix, long millis, String queryId) {
        return prefix + String.format("%019d|%s", millis, queryId);
    }
}
