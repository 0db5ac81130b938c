package dev.kafkareranker.gather;

import dev.kafkareranker.avro.ModelInfo;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.Scorer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
 * {@code candidate_count} distinct documents arrived) or its max wait has passed, scores, ranks and
 * forwards it: {@link RankedResults} for the results topic, and candidates that cannot be part of a
 * result (late, unknown model, model failure) as dead letters; the topology routes the two by type.
 *
 * <p>State is kept in three stores so that no changelog record grows with the query: one small
 * {@link QueryState} per query, one entry per candidate (key {@code query_id NUL doc_id}, found by
 * prefix scan), and deadlines keyed so that they sort by time, so the punctuator reads only the
 * expired prefix. An emitted query's state stays for {@code emittedRetention} to recognise late
 * candidates.
 */
final class GatherProcessor implements Processor<String, RetrievalCandidate, String, SpecificRecord> {

    private static final Logger LOG = LoggerFactory.getLogger(GatherProcessor.class);
    private static final String SEPARATOR = "\u0000";
    /** Max-wait deadlines of gathering queries. */
    private static final String WAIT = "W|";
    /** Expiry of emitted queries' state. */
    private static final String EXPIRE = "E|";

    private final GatherSettings settings;
    private final ScorerRouter scorers;
    private final RerankTopology.StoreNames stores;
    private final GatherListener listener;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, QueryState> queries;
    private KeyValueStore<String, RetrievalCandidate> candidates;
    private KeyValueStore<String, String> deadlines;
    private int pendingQueries;

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
        context.schedule(settings.punctuateInterval(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
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

    private void emit(QueryState query, boolean complete, long timestamp) {
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
        keys.forEach(candidates::delete);
        long now = context.currentSystemTimeMs();
        deadlines.delete(deadlineKey(WAIT, query.getFirstSeenMillis() + settings.maxWait().toMillis(), queryId));
        pendingQueries--;
        listener.pendingChanged(-1);
        query.setEmittedMillis(now);
        queries.put(queryId, query);
        deadlines.put(deadlineKey(EXPIRE, now + settings.emittedRetention().toMillis(), queryId), queryId);

        long start = System.nanoTime();
        Scorer.Scoring scoring;
        try {
            Scorer scorer = scorers.forModel(query.getModel());
            List<String> passages = new ArrayList<>(gathered.size());
            for (RetrievalCandidate c : gathered) {
                passages.add(c.getText());
            }
            scoring = scorer.scoreQuery(query.getQuery(), passages);
        } catch (UnknownModelException e) {
            deadLetter(query, gathered, DeadLetters.REASON_UNKNOWN_MODEL, e, timestamp);
            return;
        } catch (InferenceException e) {
            deadLetter(query, gathered, DeadLetters.REASON_SCORING_FAILED, e, timestamp);
            return;
        }
        long scoringMs = (System.nanoTime() - start) / 1_000_000;
        List<RankedDocument> ranked = Ranking.rank(gathered, scoring.scores(), query.getTopK() != null ? query.getTopK() : settings.defaultTopK());
        RankedResults results = RankedResults.newBuilder()
                .setQueryId(queryId)
                .setQuery(query.getQuery())
                .setResults(ranked)
                .setModel(new ModelInfo(scoring.modelName(), scoring.modelVersion()))
                .setComplete(complete)
                .setCandidatesReceived(gathered.size())
                .setCandidatesExpected(query.getExpected())
                .setDuplicates(query.getDuplicates())
                .setFirstCandidateTime(Instant.ofEpochMilli(query.getFirstSeenMillis()))
                .setEmittedTime(Instant.ofEpochMilli(now))
                .setScoringMs(scoringMs)
                .build();
        context.forward(new Record<>(queryId, (SpecificRecord) results, timestamp, new RecordHeaders()));
        listener.queryEmitted(scoring.modelName(), gathered.size(), scoringMs, now - query.getFirstSeenMillis(), complete);
    }

    private void deadLetter(QueryState query, List<RetrievalCandidate> gathered, String reason, Exception cause, long timestamp) {
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
