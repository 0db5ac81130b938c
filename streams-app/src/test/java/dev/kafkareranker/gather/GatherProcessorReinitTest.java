package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What GatherProcessor derives from its stores is derived again on every init, never carried across; a
 * closed (revoked) task's scoring is cancelled; commits are requested at a bounded rate.
 */
class GatherProcessorReinitTest {

    private final String scope = "reinit-" + UUID.randomUUID();

    @AfterEach
    void drop() {
        MockSchemaRegistry.drop(scope);
    }

    private <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde() {
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(Map.of("schema.registry.url", "mock://" + scope), false);
        return serde;
    }

    /** An in-memory store of {@code name}, without a changelog, registered with {@code context} (GatherProcessorUpgradeTest's too). */
    static <V> KeyValueStore<String, V> store(MockProcessorContext<?, ?> context, String name, Serde<V> values) {
        KeyValueStore<String, V> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        return store;
    }

    @Test
    void thePendingCountIsRecountedOnEveryInitOfTheSameInstance() {
        Serde<RetrievalCandidate> candidates = serde();
        Serde<RankedResults> results = serde();
        AtomicInteger gauge = new AtomicInteger();
        GatherListener listener = new GatherListener() {
            @Override
            public void pendingChanged(int delta) {
                gauge.addAndGet(delta);
            }
        };
        GatherSettings settings = new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 3, 50, 4, 200,
                Duration.ofMinutes(10), 4);
        GatherProcessor processor = processor(settings, ScorerRouter.single(new StatedScoreScorer("stated")), listener, candidates, results);
        MockProcessorContext<String, Outcome> context = new MockProcessorContext<>();
        storesAtWallClockZero(context);

        processor.init(context);
        for (String q : new String[] {"q1", "q2", "q3"}) {
            RetrievalCandidate c = RetrievalCandidate.newBuilder().setQueryId(q).setQuery("query " + q).setDocId("a")
                    .setText("score=0.1").setCandidateCount(2).setMetadata(Map.of()).build();
            processor.process(new Record<>(q, new GatherProcessor.Arrival(null, candidates.serializer().serialize(Topics.DEFAULT_CANDIDATES, c)), 0L));
        }
        assertEquals(3, gauge.get());

        // Suspend and resume, or a revived task: Kafka Streams closes and inits the same instance again.
        processor.close();
        processor.init(context);
        assertEquals(3, gauge.get(), "three queries pending, not 3 + 3");
        processor.init(context);
        assertEquals(3, gauge.get(), "an init without a close in between recounts too");
    }

    /** The gatherer's three stores, in memory, and the context at the default candidates topic's offset 0, wall clock 0. */
    private static void storesAtWallClockZero(MockProcessorContext<String, Outcome> context) {
        store(context, RerankTopology.STORES.queries(), new StoreSerde<>(QueryState.class, null));
        store(context, RerankTopology.STORES.candidates(), new CandidateStoreSerde(null));
        store(context, RerankTopology.STORES.deadlines(), Serdes.String());
        context.setRecordMetadata(Topics.DEFAULT_CANDIDATES, 0, 0);
        context.setCurrentSystemTimeMs(0);
    }

    /** A processor reading candidates of the default topic (one partition), as from the repartition topic. */
    static GatherProcessor processor(GatherSettings settings, ScorerRouter scorers, GatherListener listener, Serde<RetrievalCandidate> candidates,
                                     Serde<RankedResults> results) {
        return new GatherProcessor(settings, scorers, RerankTopology.STORES, listener,
                new CandidateReader(candidates.deserializer(), settings, Map.of()),
                new GatherProcessor.Codecs(candidates.serializer(), results.serializer()), Topics.defaults(),
                Map.of(Topics.DEFAULT_CANDIDATES, 1), new ScoringBacklog(settings.maxInFlightQueries()));
    }

    /** A processor over in-memory stores, its context at wall clock 0. */
    private GatherProcessor started(GatedScorer scorer, MockProcessorContext<String, Outcome> context) {
        Serde<RetrievalCandidate> candidates = serde();
        Serde<RankedResults> results = serde();
        GatherSettings settings = new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 3, 50, 4, 200,
                Duration.ofMinutes(10), 16);
        GatherProcessor processor = processor(settings, ScorerRouter.single(scorer), GatherListener.NONE, candidates, results);
        storesAtWallClockZero(context);
        processor.init(context);
        return processor;
    }

    private GatherProcessor.Arrival oneCandidateQuery(String q) {
        Serde<RetrievalCandidate> candidates = serde();
        return new GatherProcessor.Arrival(null, candidates.serializer().serialize(Topics.DEFAULT_CANDIDATES, RetrievalCandidate.newBuilder()
                .setQueryId(q).setQuery("query " + q).setDocId("a").setText("score=0.1").setCandidateCount(1).setMetadata(Map.of()).build()));
    }

    @Test
    void closingATaskCancelsTheScoringItHandedToTheModel() {
        java.util.List<java.util.concurrent.CompletableFuture<?>> handed = new java.util.ArrayList<>();
        GatedScorer scorer = new GatedScorer() {
            @Override
            public java.util.concurrent.CompletableFuture<Scoring> scoreQueryAsync(String query, java.util.List<String> passages) {
                java.util.concurrent.CompletableFuture<Scoring> future = super.scoreQueryAsync(query, passages);
                handed.add(future);
                return future;
            }
        };
        MockProcessorContext<String, Outcome> context = new MockProcessorContext<>();
        GatherProcessor processor = started(scorer, context);
        processor.process(new Record<>("q1", oneCandidateQuery("q1"), 0L));
        assertEquals(1, handed.size(), "a complete query is handed to the model");
        assertFalse(handed.get(0).isDone(), "still being scored");

        processor.close();
        assertTrue(handed.get(0).isCancelled(), "the engine's future is cancelled, so its rows not yet run are dropped");
    }

    @Test
    void forwardsAskForACommitAtMostOncePerInterval() {
        GatedScorer scorer = new GatedScorer();
        MockProcessorContext<String, Outcome> context = new MockProcessorContext<>();
        GatherProcessor processor = started(scorer, context);
        long now = 1_000;
        int forwards = 0;
        int commits = 0;
        // Ten queries forwarded 1 ms apart: 9 ms, within one 10 ms interval after the first request.
        for (int i = 0; i < 10; i++) {
            context.setCurrentSystemTimeMs(now + i);
            processor.process(new Record<>("q" + i, oneCandidateQuery("q" + i), now));
            scorer.release("query q" + i);
            processor.process(new Record<>("x" + i, oneCandidateQuery("x" + i), now));
            scorer.release("query x" + i);
            forwards = context.forwarded().size();
            if (context.committed()) {
                commits++;
                context.resetCommit();
            }
        }
        assertTrue(forwards >= 10, "results were forwarded: " + forwards);
        assertEquals(1, commits, "one commit request for 9 ms of forwards (CommitPacer.MIN_INTERVAL)");
        context.setCurrentSystemTimeMs(now + 9 + CommitPacer.MIN_INTERVAL.toMillis());
        processor.process(new Record<>("y", oneCandidateQuery("y"), now));
        scorer.release("query y");
        processor.process(new Record<>("z", oneCandidateQuery("z"), now));
        assertTrue(context.committed(), "the next interval asks again");
    }
}
