package dev.kafkareranker.gather;

import dev.kafkareranker.avro.ModelInfo;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.SourceRecord;
import dev.kafkareranker.avro.internal.StoredCandidate;
import dev.kafkareranker.inference.Scorer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
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
 * {@link QueryState} per query, one {@link StoredCandidate} per candidate, decoded and as produced, for
 * its dead letter (key: the query_id's length, a colon, the query_id and the doc_id, found by prefix
 * scan: length-prefixed, so that no query_id, NUL or not, is a prefix of another's keys), and deadlines
 * keyed so that they sort by time, so the punctuator reads only the expired prefix. An emitted query's
 * state stays for {@code emittedRetention} to recognise late candidates.
 *
 * <p>Failure paths: everything that can fail for one record (decoding, its model, a conflict, lateness)
 * is checked before any store changes, and thrown as a {@link BadRecordException} that the processing
 * handler dead-letters. When a query is finished, its result (or its dead letters) is ranked and
 * serialized before its store entries are removed, and any failure that is not a record's own (the
 * registry, a serializer, the model engine unavailable) is thrown, failing the task: its transaction,
 * store changes included, aborts and the input is processed again. Nothing is ever committed half done.
 *
 * <p>With {@code overlapScoring} (a GPU), scoring does not hold the stream thread: while the model runs,
 * the thread goes on gathering (and feeding the engine other queries to batch with), which also keeps
 * transactions short however slow the model is. Without it (a CPU, whose cores the model needs), the
 * thread waits for each query's scores. Either way a query being scored is marked in the store, so
 * exactly-once survives a stop in between.
 */
final class GatherProcessor implements Processor<String, byte[], String, GatherProcessor.Outcome> {

    /** A record for the results topic ({@code result}) or the dead-letter topic, already serialized. */
    record Outcome(boolean result, byte[] key, byte[] value) {}

    /** The serdes of the topic edges: decoding candidates, writing results and dead letters of candidates stored without their bytes. */
    record Codecs(Deserializer<RetrievalCandidate> candidates, Serializer<RetrievalCandidate> deadLetters, Serializer<RankedResults> results) {}


    private static final Logger LOG = LoggerFactory.getLogger(GatherProcessor.class);
    /** Store keys of earlier versions: query_id NUL doc_id, which let query X absorb query X NUL y's candidates. */
    private static final String LEGACY_SEPARATOR = "\u0000";
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
    private final Codecs codecs;
    private final Topics topics;
    private final Map<String, String> modelByTopic;
    private ProcessorContext<String, Outcome> context;
    private KeyValueStore<String, QueryState> queries;
    private KeyValueStore<String, StoredCandidate> candidates;
    private KeyValueStore<String, String> deadlines;
    private int pendingQueries;
    /** dead.letters.max.bytes: what a dead letter may take, and so what of a candidate as produced the store keeps. */
    private int deadLetterMaxBytes = CountingExceptionHandlers.DEFAULT_MAX_BYTES;
    /** Wall clock: when this task last processed a record, and when it (re)started or resumed after a gap. */
    private long lastInputMs;
    private long startedMs;
    private long lastPunctuateMs;
    private CommitPacer commits;
    /** The clock of each candidates-topic partition feeding this task: max waits are measured in them. */
    private SourceClocks clocks;
    /** In the order they were handed over; results go out as soon as each is scored. */
    private final Map<String, InFlight> inFlight = new LinkedHashMap<>();

    GatherProcessor(GatherSettings settings, ScorerRouter scorers, RerankTopology.StoreNames stores, GatherListener listener,
                    Codecs codecs, Topics topics, Map<String, String> modelByTopic) {
        this.settings = settings;
        this.scorers = scorers;
        this.stores = stores;
        this.listener = listener;
        this.codecs = codecs;
        this.topics = topics;
        this.modelByTopic = Map.copyOf(modelByTopic);
    }

    @Override
    public void init(ProcessorContext<String, Outcome> context) {
        this.context = context;
        this.queries = context.getStateStore(stores.queries());
        this.candidates = context.getStateStore(stores.candidates());
        this.deadlines = context.getStateStore(stores.deadlines());
        this.deadLetterMaxBytes = CountingExceptionHandlers.maxBytes(context.appConfigs());
        // Kafka Streams may init the same instance again (suspend and resume, a revived task): what was
        // derived from the stores before is dropped and derived again, never carried across.
        listener.pendingChanged(-pendingQueries);
        pendingQueries = 0;
        inFlight.clear();
        try (KeyValueIterator<String, String> it = deadlines.prefixScan(WAIT, new StringSerializer())) {
            while (it.hasNext()) {
                it.next();
                pendingQueries++;
            }
        }
        listener.pendingChanged(pendingQueries);
        clocks = new SourceClocks();
        startedMs = lastInputMs = lastPunctuateMs = context.currentSystemTimeMs();
        commits = CommitPacer.schedule(context);
        resubmitInterruptedScoring();
        context.schedule(settings.punctuateInterval(), PunctuationType.WALL_CLOCK_TIME, now -> failingTask(() -> punctuate(now)));
        if (settings.overlapScoring()) {
            context.schedule(FORWARD_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> failingTask(this::forwardScored));
        }
    }

    private void failingTask(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            throw Failures.failTask(context.taskId(), e);
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
    public void process(Record<String, byte[]> record) {
        try {
            gather(record);
        } catch (RuntimeException e) {
            throw Failures.failTask(context.taskId(), e);
        }
    }

    private void gather(Record<String, byte[]> record) {
        // Checks first: a record at fault throws before any store changes (the handler dead-letters it).
        String sourceTopic = Origin.topic(record.headers(), context.recordMetadata().map(m -> m.topic()).orElse(topics.candidates()));
        RetrievalCandidate candidate = cap(Candidates.validate(Candidates.decode(codecs.candidates(), sourceTopic, record.value()),
                settings.limits()));
        if (candidate.getModel() == null && modelByTopic.containsKey(sourceTopic)) {
            candidate.setModel(modelByTopic.get(sourceTopic));
        }
        String queryId = candidate.getQueryId();
        long now = context.currentSystemTimeMs();
        lastInputMs = now;
        // The record as produced, kept beside the decoded candidate for its dead letter should the query's
        // scoring fail; built here, with the checks, so nothing in it can fail once the stores change. Its
        // position also names the partition whose clock this record advances, late or not (SourceClocks).
        SourceRecord source = source(record);
        SourceClocks.Source from = new SourceClocks.Source(source.getTopic(), source.getPartition());
        clocks.observe(from, record.timestamp(), now);
        QueryState query = queries.get(queryId);
        if (query != null && query.getEmittedMillis() != null) {
            throw new LateCandidateException("candidate " + candidate.getDocId() + " of query " + queryId
                    + " arrived after the query was emitted at " + Instant.ofEpochMilli(query.getEmittedMillis()));
        }
        if (query == null) {
            // An unknown model is this record's fault: it alone is a dead letter (UnknownModelException).
            scorers.forModel(candidate.getModel());
        } else if (!sameModel(query.getModel(), candidate.getModel())) {
            throw new ModelConflictException("candidate " + candidate.getDocId() + " of query " + queryId + " names model "
                    + describe(candidate.getModel()) + " but the query's first candidate named " + describe(query.getModel())
                    + "; a query is scored by one model, so this candidate alone goes to the dead-letter topic");
        }
        String key = candidateKey(queryId, candidate.getDocId());
        boolean duplicate = query != null && (candidates.get(key) != null || candidates.get(legacyKey(queryId, candidate.getDocId())) != null);

        // From here on the stores change.
        if (query == null) {
            if (pendingQueries >= settings.maxPendingQueries()) {
                emitOldest();
            }
            query = QueryState.newBuilder()
                    .setQueryId(queryId)
                    .setQuery(candidate.getQuery())
                    .setFirstSeenMillis(firstTime(record.timestamp(), now))
                    .setReceived(0)
                    .setModel(candidate.getModel())
                    .setTopK(candidate.getTopK())
                    .setExpected(candidate.getCandidateCount())
                    .build();
            // The value names the partition whose clock passes this deadline (SourceClocks); earlier versions wrote the query_id.
            deadlines.put(deadlineKey(WAIT, query.getFirstSeenMillis() + settings.maxWait().toMillis(), queryId), from.id());
            pendingQueries++;
            listener.pendingChanged(1);
        } else if (conflicts(query, candidate)) {
            // First wins: the candidate is still a fair candidate for the query, and dropping it for a
            // difference in a repeated field would lose it; the count in the result lets a producer see it.
            query.setConflicts(query.getConflicts() + 1);
            LOG.debug("Candidate {} of query {} differs from the query's first in query text, top_k or candidate_count; the first's are kept",
                    candidate.getDocId(), queryId);
        }
        if (duplicate) {
            query.setDuplicates(query.getDuplicates() + 1);
            queries.put(queryId, query);
            return;
        }
        candidates.put(key, new StoredCandidate(candidate, source));
        query.setReceived(query.getReceived() + 1);
        if (query.getExpected() == null) {
            query.setExpected(candidate.getCandidateCount());
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

    /** The record in hand as its producer wrote it, its position and key from its headers after the repartition topic (Origin). */
    private SourceRecord source(Record<String, byte[]> record) {
        var position = context.recordMetadata();
        return Origin.source(record.headers(), position.map(m -> m.topic()).orElse(topics.candidates()),
                position.map(m -> m.partition()).orElse(-1), position.map(m -> m.offset()).orElse(-1L), record.timestamp(),
                record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8), record.value(), deadLetterMaxBytes);
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

    /** Length-prefixed: the keys of query X never begin with query X NUL y's prefix, nor the other way round. */
    static String candidatePrefix(String queryId) {
        return queryId.length() + ":" + queryId;
    }

    static String candidateKey(String queryId, String docId) {
        return candidatePrefix(queryId) + docId;
    }

    private static String legacyKey(String queryId, String docId) {
        return queryId + LEGACY_SEPARATOR + docId;
    }

    /**
     * Cuts texts to gather.max.passage.chars before they enter the store: a model reads at most its
     * max length in tokens, so beyond that the characters only cost state and changelog bytes.
     */
    private RetrievalCandidate cap(RetrievalCandidate candidate) {
        int max = settings.maxPassageChars();
        if (candidate.getText().length() > max) {
            LOG.debug("Candidate {} of query {} has {} characters; keeping the first gather.max.passage.chars={}",
                    candidate.getDocId(), candidate.getQueryId(), candidate.getText().length(), max);
            candidate.setText(candidate.getText().substring(0, max));
        }
        if (candidate.getQuery().length() > max) {
            candidate.setQuery(candidate.getQuery().substring(0, max));
        }
        return candidate;
    }

    /**
     * A query's time is its first candidate's record timestamp, but never ahead of this node's clock: a
     * producer whose clock runs ahead would otherwise hold its queries back until the wall clock caught up.
     */
    private static long firstTime(long recordTimestamp, long now) {
        return recordTimestamp >= 0 ? Math.min(recordTimestamp, now) : now;
    }

    /**
     * Until when max-wait deadlines of queries stored without their source partition (by an earlier
     * version) have passed, or {@code Long.MIN_VALUE} while none may pass. A query's deadline is its first
     * candidate's timestamp plus gather.max.wait.ms. It passes when the clock of the partition that
     * candidate came from (the largest record timestamp read from it, {@link SourceClocks}) reaches it:
     * after a restart, or behind a flood, the backlog that holds a query's remaining candidates is read
     * before the records that come after them, so the query is complete before its deadline passes. For
     * entries without a partition, the task's stream time (the largest timestamp of any partition) stands
     * in, as it did. Never before the wall clock too has reached it: a record whose producer's clock runs
     * ahead must not time every other query out. When a partition (or, for the old entries, the input) is
     * idle for the max wait, its clock stands still, and the wall clock alone passes deadlines. Either way,
     * nothing expires within the max wait of the task's start or of a gap in punctuation (paused input, a
     * thread held up): the task first reads what is waiting for it.
     */
    private long waitBound(long now) {
        long maxWait = settings.maxWait().toMillis();
        if (!scorers.accepting() || now - lastPunctuateMs > 2 * maxWait) {
            // A model refusing work (the input is paused meanwhile) or the thread held up for long: the
            // input that came meanwhile has not been read yet, so the wait starts again from now.
            startedMs = lastInputMs = now;
        }
        // Resumed after a pause (RerankerApp's gate says when): the same, even if no punctuation saw the pause.
        long resumed = scorers.inputResumedAtMs();
        if (resumed > startedMs) {
            startedMs = resumed;
            lastInputMs = Math.max(lastInputMs, resumed);
        }
        lastPunctuateMs = now;
        if (now - startedMs < maxWait) {
            return Long.MIN_VALUE;
        }
        long streamTime = context.currentStreamTimeMs();
        return now - lastInputMs >= maxWait ? Math.max(streamTime, now) : Math.min(streamTime, now);
    }

    private void punctuate(long now) {
        long taskBound = waitBound(now);
        long maxWait = settings.maxWait().toMillis();
        List<KeyValue<String, String>> due = taskBound == Long.MIN_VALUE ? List.of() : expired(WAIT, Math.max(taskBound, clocks.maxBound(now)));
        for (KeyValue<String, String> entry : due) {
            String queryId = queryIdOf(WAIT, entry.key);
            SourceClocks.Source from = entry.value.equals(queryId) ? null : SourceClocks.Source.parse(entry.value);
            long bound = from == null ? taskBound : clocks.bound(from, now, maxWait, startedMs);
            if (deadlineOf(WAIT, entry.key) > bound) {
                continue;  // its partition's clock is not there yet: its remaining candidates may still be on their way
            }
            QueryState query = queries.get(queryId);
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
        if (now < 0) {
            return out;
        }
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
                QueryState oldest = queries.get(queryIdOf(WAIT, entry.key));
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
        // Only the decoded candidates are held while the model runs; the records as produced stay in the
        // store, where forward reads them should the scoring fail.
        try (KeyValueIterator<String, StoredCandidate> it = candidates.prefixScan(candidatePrefix(queryId), new StringSerializer())) {
            it.forEachRemaining(kv -> {
                keys.add(kv.key);
                gathered.add(kv.value.getCandidate());
            });
        }
        // Entries stored by earlier versions under query_id NUL doc_id, taken only when the key is exactly
        // that query's: the prefix alone would also match query X NUL y's.
        try (KeyValueIterator<String, StoredCandidate> it = candidates.prefixScan(queryId + LEGACY_SEPARATOR, new StringSerializer())) {
            it.forEachRemaining(kv -> {
                RetrievalCandidate c = kv.value.getCandidate();
                if (c.getQueryId().equals(queryId) && kv.key.equals(legacyKey(queryId, c.getDocId()))) {
                    keys.add(kv.key);
                    gathered.add(c);
                }
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
        // The engine's own future is kept for cancelling: cancelling the one derived below would not reach it.
        CompletableFuture<Scorer.Scoring> submitted = scoring;
        scoring = scoring.whenComplete((result, failure) -> done.set(System.nanoTime()));
        return new InFlight(query, gathered, keys, complete, timestamp, marked, start, done, scoring, submitted);
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
            commits.forwarded();
        }
    }

    /**
     * Writes a scored query out: ranked and serialized first, so that a failure there (the registry, the
     * serializer) is thrown before the store changes and fails the task with nothing half done; then the
     * query's candidates and mark leave the store and the result or dead letters are forwarded.
     */
    private void forward(InFlight done) {
        QueryState query = done.query();
        String queryId = query.getQueryId();
        long now = context.currentSystemTimeMs();
        List<Record<String, Outcome>> out = new ArrayList<>();
        Scorer.Scoring scoring = null;
        String reason = null;
        Throwable cause = null;
        try {
            scoring = done.scoring().join();
        } catch (CompletionException | CancellationException e) {
            cause = e.getCause() != null ? e.getCause() : e;
            if (Failures.engineUnavailable(cause)) {
                // Not the query's fault: the model is down or timed out. Failing the task scores it again later.
                throw new IllegalStateException("The model engine could not score query " + queryId + ": " + cause.getMessage(), cause);
            }
            reason = cause instanceof UnknownModelException ? DeadLetters.REASON_UNKNOWN_MODEL : DeadLetters.REASON_SCORING_FAILED;
        }
        byte[] key = queryId.getBytes(StandardCharsets.UTF_8);
        long scoringMs = (done.doneNanos().get() - done.startNanos()) / 1_000_000;
        if (scoring == null) {
            // Each candidate as produced, as a late one's would be (DeadLetters.ofSource), from its store entry
            // (still there until below); only an entry an earlier version stored lacks its record and is
            // re-encoded, keyed by the query_id, and marked.
            for (int i = 0; i < done.keys().size(); i++) {
                StoredCandidate stored = candidates.get(done.keys().get(i));
                SourceRecord source = stored == null ? null : stored.getSource();
                ProducerRecord<byte[], byte[]> dead = source != null
                        ? DeadLetters.ofSource(topics.deadLetters(), source, reason, cause, deadLetterMaxBytes)
                        : DeadLetters.reencoded(topics.deadLetters(), done.timestamp(), key,
                                codecs.deadLetters().serialize(topics.deadLetters(), done.gathered().get(i)), reason, cause, deadLetterMaxBytes);
                out.add(new Record<>(queryId, new Outcome(false, dead.key(), dead.value()),
                        dead.timestamp() != null ? dead.timestamp() : done.timestamp(), dead.headers()));
            }
        } else {
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
                    .setConflicts(query.getConflicts())
                    .setFirstCandidateTime(Instant.ofEpochMilli(query.getFirstSeenMillis()))
                    .setEmittedTime(Instant.ofEpochMilli(query.getEmittedMillis()))
                    .setScoringMs(scoringMs)
                    .build();
            byte[] value = ResultSize.fit(results, r -> codecs.results().serialize(topics.results(), r), settings.limits().maxResultBytes());
            out.add(new Record<>(queryId, new Outcome(true, key, value), done.timestamp(), new RecordHeaders()));
        }

        done.keys().forEach(candidates::delete);
        // By the mark, not the current setting: a query marked under overlap=on and rescored after a restart
        // with it off must still lose its mark, or every later restart would score it again.
        if (done.marked()) {
            deadlines.delete(SCORING + queryId);
        }
        deadlines.put(deadlineKey(EXPIRE, now + settings.emittedRetention().toMillis(), queryId), queryId);
        out.forEach(context::forward);
        if (scoring == null) {
            DeadLetterLog.deadLetter(reason, "query " + queryId + " (" + done.gathered().size() + " candidates)", cause.getMessage(), cause);
            listener.deadLettered(reason, done.gathered().size());
        } else {
            listener.queryEmitted(scoring.modelName(), done.gathered().size(), scoringMs, now - query.getFirstSeenMillis(), done.complete());
        }
    }

    /** A query with the model: what its result needs once the scores are in. */
    private record InFlight(QueryState query, List<RetrievalCandidate> gathered, List<String> keys, boolean complete,
                            long timestamp, boolean marked, long startNanos, AtomicLong doneNanos, CompletableFuture<Scorer.Scoring> scoring,
                            CompletableFuture<Scorer.Scoring> submitted) {}

    /**
     * Queries handed to the model by this task are not waited for: a later task (this one revived, or
     * another instance's) scores them again from their marks. Their futures are cancelled so that the
     * engine drops their rows not yet run instead of scoring for a task that is gone.
     */
    @Override
    public void close() {
        inFlight.values().forEach(query -> query.submitted().cancel(false));
        inFlight.clear();
        // This task's queries leave the process-wide gauge; whoever runs the task next counts them again.
        listener.pendingChanged(-pendingQueries);
        pendingQueries = 0;
    }

    /** The query_id of a deadline key ({@link #deadlineKey}): after the prefix, 19 characters of time and a bar. */
    static String queryIdOf(String prefix, String key) {
        return key.substring(prefix.length() + 20);
    }

    /** The time of a deadline key ({@link #deadlineKey}). */
    static long deadlineOf(String prefix, String key) {
        return Long.parseLong(key, prefix.length(), prefix.length() + 19, 10);
    }

    /** Sorts by time as text within a prefix: 19 digits cover every non-negative long. */
    static String deadlineKey(String prefix, long millis, String queryId) {
        // Zero-padded to 19 digits so keys sort by time; by hand, not String.format("%019d|%s"), which built a
        // Formatter (and its regex) for every candidate on the stream thread (seen in a JFR profile of bench (e)).
        if (millis < 0) {
            return prefix + String.format("%019d|%s", millis, queryId);  // the old layout for what should never be
        }
        String digits = Long.toString(millis);
        StringBuilder key = new StringBuilder(prefix.length() + 20 + queryId.length()).append(prefix);
        for (int i = digits.length(); i < 19; i++) {
            key.append('0');
        }
        return key.append(digits).append('|').append(queryId).toString();
    }
}
