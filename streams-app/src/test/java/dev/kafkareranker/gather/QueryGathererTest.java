package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.StoredCandidate;
import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.ModelUnavailableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * The gatherer's decisions without Kafka: an in-memory store, a clock the test moves, and a model whose
 * scores arrive when the test releases them. Each case states the times and expects exact outcomes.
 */
class QueryGathererTest {

    private static final String TOPIC = "candidates";
    /** Max wait 5 s, deadline checks every 100 ms, top 3, 50 per query, 4 pending, 200 chars, 10 min retention, 2 in flight. */
    private static final GatherSettings SETTINGS = new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 3, 50, 4, 200,
            Duration.ofMinutes(10), 2);
    private static final StoreSerde<RankedResults> RESULTS = new StoreSerde<>(RankedResults.class, null);
    private static final StoreSerde<RetrievalCandidate> CANDIDATES = new StoreSerde<>(RetrievalCandidate.class, null);

    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final MemoryTable<QueryState> queries = new MemoryTable<>();
    private final MemoryTable<StoredCandidate> candidates = new MemoryTable<>();
    private final MemoryTable<String> deadlines = new MemoryTable<>();
    private final GatherStore store = new GatherStore(queries, candidates, deadlines);
    private final ScoringBacklog backlog = new ScoringBacklog(SETTINGS.maxInFlightQueries());
    private final List<Throwable> faults = new ArrayList<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final GatherListener listener = new GatherListener() {
        @Override
        public void pendingChanged(int delta) {
            pending.addAndGet(delta);
        }

        @Override
        public void transientFault(Throwable cause) {
            faults.add(cause);
        }
    };
    private final AtomicInteger refuseWrites = new AtomicInteger();
    private GatedScorer model = new GatedScorer();
    private QueryGatherer gatherer;
    private long offset;

    private QueryGatherer start(Set<String> upstream) {
        Outcomes outcomes = new Outcomes(SETTINGS, store, new Outcomes.Writers(r -> {
            if (refuseWrites.getAndDecrement() > 0) {
                throw new org.apache.kafka.common.errors.SerializationException("injected: the registry is unavailable");
            }
            return RESULTS.serialize("results", r);
        }, c -> CANDIDATES.serialize("dlq", c)), "dlq", 100_000);
        gatherer = new QueryGatherer(SETTINGS, store, ScorerRouter.single(model), clock::get, listener, outcomes, backlog.open("0_0"), upstream);
        return gatherer;
    }

    private QueryGatherer start() {
        return start(Set.of(Watermark.source(TOPIC, 0)));
    }

    private List<Outcome> admit(String queryId, String docId, Integer count, long timestamp) {
        RetrievalCandidate c = RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery("query " + queryId).setDocId(docId)
                .setText("score=0." + (docId.hashCode() & 7)).setCandidateCount(count).setMetadata(Map.of()).build();
        byte[] produced = CANDIDATES.serialize(TOPIC, c);
        StoredCandidate stored = new StoredCandidate(c, Origin.source(new RecordHeaders(), TOPIC, 0, offset++, timestamp,
                queryId.getBytes(StandardCharsets.UTF_8), produced, 100_000));
        return gatherer.admit(stored, timestamp);
    }

    private static List<String> resultIds(List<Outcome> out) {
        return out.stream().filter(Outcome::result).map(o -> RESULTS.deserialize("results", o.value()).getQueryId()).toList();
    }

    private static RankedResults onlyResult(List<Outcome> out) {
        assertEquals(1, out.size(), "outcomes " + out);
        assertTrue(out.get(0).result());
        return RESULTS.deserialize("results", out.get(0).value());
    }

    @Test
    void aQueryIsHandedOverOnceItsCountOfDistinctDocumentsIsInAndWrittenWhenItsScoresArrive() {
        start().start();
        assertEquals(List.of(), admit("q1", "a", 2, clock.get()));
        assertEquals(List.of(), admit("q1", "a", 2, clock.get()), "a repeated document counts once");
        assertEquals(List.of(), admit("q1", "b", 2, clock.get()), "handed over, not waited for");
        assertTrue(model.isScoring("query q1"));
        assertEquals(1, store.readyMarks().size(), "marked ready in the store while the model has it");
        assertEquals(List.of(), gatherer.poll(), "nothing before the scores are in");

        model.release("query q1");
        RankedResults r = onlyResult(gatherer.poll());
        assertTrue(r.getComplete());
        assertEquals(2, r.getCandidatesReceived());
        assertEquals(1, r.getDuplicates());
        assertEquals(List.of(), store.readyMarks(), "the mark leaves with the result");
        assertEquals(0, candidates.size(), "and the candidates");
        assertNotNull(store.query("q1").getEmittedMillis(), "the query's state stays, to recognise late candidates");
        assertThrows(LateCandidateException.class, () -> admit("q1", "c", 2, clock.get()));
    }

    @Test
    void atTheInFlightCapReadyQueriesWaitInOrderAndTheBacklogSaysWhenTheModelIsBehind() {
        start().start();
        for (int q = 1; q <= 3; q++) {
            clock.addAndGet(1);
            admit("q" + q, "a", 1, clock.get());
        }
        assertEquals(2, model.outstanding.get(), "gather.max.in.flight.queries=2");
        assertNull(backlog.saturated(), "one waiting behind two being scored: not yet a whole cap waiting behind a whole cap...");
        for (int q = 4; q <= 6; q++) {
            clock.addAndGet(1);
            admit("q" + q, "a", 1, clock.get());
        }
        assertNotNull(backlog.saturated(), "... four waiting behind two unfinished: the input gate pauses");

        List<String> written = new ArrayList<>();
        for (int q = 1; q <= 6; q++) {
            model.release("query q" + q);
            written.addAll(resultIds(gatherer.poll()));
            assertTrue(model.outstanding.get() <= 2);
        }
        assertEquals(List.of("q1", "q2", "q3", "q4", "q5", "q6"), written, "each once, in the order they became ready");
        assertNull(backlog.saturated());
    }

    @Test
    void aQueryTheModelCannotScoreNowWaitsForItWithoutADeadLetterAndIsScoredAfterABackoff() {
        AtomicBoolean accepting = new AtomicBoolean(true);
        model = new GatedScorer() {
            @Override
            public boolean accepting() {
                return accepting.get();
            }
        };
        start().start();
        admit("q1", "a", 1, clock.get());
        accepting.set(false);
        model.fail("query q1", new ModelUnavailableException("injected: breaker open"));
        assertEquals(List.of(), gatherer.poll(), "no dead letter: the model is at fault, not the query");
        assertEquals(1, store.readyMarks().size(), "still marked");

        clock.addAndGet(ScoringQueue.RETRY_BACKOFF_MS);
        gatherer.poll();
        assertFalse(model.isScoring("query q1"), "not handed over while its model refuses work");
        accepting.set(true);
        clock.addAndGet(1);
        gatherer.poll();
        assertTrue(model.isScoring("query q1"), "handed over again once it accepts");
        model.release("query q1");
        assertEquals(List.of("q1"), resultIds(gatherer.poll()));
    }

    @Test
    void aQueryWhoseRowsFailBecomesOneDeadLetterPerCandidateAsProduced() {
        start().start();
        admit("q1", "a", 2, clock.get());
        admit("q1", "b", 2, clock.get());
        model.fail("query q1", new InferenceException("injected: a row is NaN", null));
        List<Outcome> out = gatherer.poll();
        assertEquals(2, out.size());
        for (Outcome o : out) {
            assertFalse(o.result());
            assertEquals(DeadLetters.REASON_SCORING_FAILED, new String(o.headers().lastHeader(DeadLetters.HEADER_REASON).value(),
                    StandardCharsets.UTF_8));
            assertEquals("q1", new String(o.key(), StandardCharsets.UTF_8), "the producer's key");
        }
        assertEquals(0, candidates.size());
    }

    @Test
    void anOutcomeThatCannotBeWrittenNowIsWrittenLaterWithTheScoresItHad() {
        refuseWrites.set(2);
        start().start();
        admit("q1", "a", 1, clock.get());
        model.release("query q1");
        assertEquals(List.of(), gatherer.poll(), "refused: nothing written, nothing changed");
        assertEquals(1, store.readyMarks().size());
        assertEquals(1, faults.size(), "the input gate is told");
        clock.addAndGet(ScoringQueue.RETRY_BACKOFF_MS - 1);
        assertEquals(List.of(), gatherer.poll(), "not before the backoff");
        clock.addAndGet(1);
        assertEquals(List.of(), gatherer.poll(), "refused again");
        clock.addAndGet(2 * ScoringQueue.RETRY_BACKOFF_MS);
        assertEquals(List.of("q1"), resultIds(gatherer.poll()));
        assertEquals(1, model.mostOutstanding.get(), "scored once");
    }

    @Test
    void aTaskThatStartsAgainHandsItsReadyQueriesOverInTheOrderTheyBecameReady() {
        start().start();
        for (int q = 1; q <= 4; q++) {
            clock.addAndGet(10);
            admit("q" + q, "a", 1, clock.get());
        }
        gatherer.close();
        assertEquals(0, pending.get());

        // The same stores, a new task (a restart, or another instance after a rebalance).
        model = new GatedScorer();
        start().start();
        assertTrue(model.isScoring("query q1") && model.isScoring("query q2") && !model.isScoring("query q3"),
                "the oldest two again, at the cap");
        List<String> written = new ArrayList<>();
        for (int q = 1; q <= 4; q++) {
            model.release("query q" + q);
            written.addAll(resultIds(gatherer.poll()));
        }
        assertEquals(List.of("q1", "q2", "q3", "q4"), written);
        assertEquals(List.of(), store.readyMarks());
    }

    @Test
    void aNewQueryBeyondThePendingCapMakesTheOldestReadyIncomplete() {
        start().start();
        for (int q = 1; q <= 5; q++) {
            clock.addAndGet(10);
            admit("q" + q, "a", 3, clock.get());
        }
        assertEquals(4, pending.get());
        assertTrue(model.isScoring("query q1"));
        model.release("query q1");
        assertFalse(onlyResult(gatherer.poll()).getComplete());
    }

    @Test
    void aDeadlinePassesOnceEveryInputPartitionHasReadPastItAndTheWallClockToo() {
        String p0 = Watermark.source(TOPIC, 0);
        String p1 = Watermark.source(TOPIC, 1);
        start(Set.of(p0, p1)).start();
        long t0 = clock.get();
        admit("q1", "a", 3, t0);
        clock.addAndGet(6_000);
        assertTrue(gatherer.expire().isEmpty() && !model.isScoring("query q1"), "no watermark yet from either partition");
        gatherer.watermark(new Watermark(p0, t0 + 7_000));
        assertFalse(model.isScoring("query q1"), "partition 1 may still hold q1's candidates");
        gatherer.watermark(new Watermark(p1, t0 + 4_000));
        assertFalse(model.isScoring("query q1"), "partition 1 has read only to 4 s of q1's 5");
        gatherer.watermark(new Watermark(p1, t0 + 5_000));
        assertTrue(model.isScoring("query q1"), "both past its deadline");
        model.release("query q1");
        assertFalse(onlyResult(gatherer.poll()).getComplete());
    }

    @Test
    void anInputPartitionSilentForTheMaxHoldNoLongerHoldsDeadlines() {
        String p0 = Watermark.source(TOPIC, 0);
        String p1 = Watermark.source(TOPIC, 1);
        start(Set.of(p0, p1)).start();
        long t0 = clock.get();
        admit("q1", "a", 3, t0);
        long hold = SETTINGS.watermarkMaxHold().toMillis();
        for (long t = 1_000; t < hold; t += 1_000) {
            clock.set(t0 + t);
            gatherer.watermark(new Watermark(p0, t0 + t));
            gatherer.expire();
        }
        assertFalse(model.isScoring("query q1"), "partition 1 has said nothing for less than the max hold");
        clock.set(t0 + hold);
        gatherer.expire();
        assertTrue(model.isScoring("query q1"), "silent for the max hold since the task started: the wall clock decides");
    }

    @Test
    void emittedQueriesAreForgottenAfterTheRetentionSoTheirIdCanStartANewQuery() {
        start(Set.of()).start();
        admit("q1", "a", 1, clock.get());
        model.release("query q1");
        gatherer.poll();
        clock.addAndGet(SETTINGS.emittedRetention().toMillis() + 1);
        gatherer.expire();
        assertNull(store.query("q1"));
        model = new GatedScorer();
        start(Set.of()).start();
        admit("q1", "b", 1, clock.get());
        assertTrue(model.isScoring("query q1"), "a new query, not a late candidate");
    }

    @Test
    void ranksByScoreThenRetrievalRankThenDocIdAndCutsToTopK() {
        start().start();
        for (String doc : List.of("d1", "d2", "d3", "d4")) {
            admit("q1", doc, 4, clock.get());
        }
        model.release("query q1");
        RankedResults r = onlyResult(gatherer.poll());
        assertEquals(3, r.getResults().size(), "top 3 by default in these settings");
        List<RankedDocument> ranked = r.getResults();
        for (int i = 1; i < ranked.size(); i++) {
            assertTrue(ranked.get(i - 1).getScore() >= ranked.get(i).getScore());
        }
    }
}
