package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.StoredCandidate;
import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A query gathering across the upgrade: its candidate store holds an entry the previous version wrote
 * (a bare RetrievalCandidate, in the single-object encoding or, older, the registry's wire format) beside
 * one this version wrote. When its scoring fails, the old entry's dead letter is re-encoded, keyed by
 * the query_id and marked; the new one's is the candidate as produced.
 */
class GatherProcessorUpgradeTest {

    private static final String TOPIC = Topics.DEFAULT_CANDIDATES;
    private final String scope = "upgrade-" + UUID.randomUUID();
    private final SpecificAvroSerde<RetrievalCandidate> registry = new SpecificAvroSerde<>();

    GatherProcessorUpgradeTest() {
        registry.configure(Map.of("schema.registry.url", "mock://" + scope), false);
    }

    @AfterEach
    void drop() {
        MockSchemaRegistry.drop(scope);
    }

    private static RetrievalCandidate candidate(String docId) {
        return RetrievalCandidate.newBuilder().setQueryId("q1").setQuery("query q1").setDocId(docId).setText("score=0.1")
                .setCandidateCount(2).setMetadata(Map.of()).build();
    }

    /**
     * The candidate store as a changelog restored from the previous version holds it: an entry without a
     * record as produced is written as that version wrote its entries ({@code earlier}); every entry is
     * read by this version's serde.
     */
    private Serde<StoredCandidate> restoredFromEarlierVersion(Function<RetrievalCandidate, byte[]> earlier) {
        CandidateStoreSerde current = new CandidateStoreSerde(registry.deserializer());
        Serializer<StoredCandidate> writer = (topic, stored) -> stored == null ? null
                : stored.getSource() == null ? earlier.apply(stored.getCandidate()) : current.serialize(topic, stored);
        Deserializer<StoredCandidate> reader = current::deserialize;
        return Serdes.serdeFrom(writer, reader);
    }

    private static final GatherSettings SETTINGS = new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 3, 50, 4, 200,
            Duration.ofMinutes(10), 4);

    /** A processor and its context, resumed where the previous version left its three stores, and the candidate store. */
    private record Upgraded(GatherProcessor processor, MockProcessorContext<String, Outcome> context,
                            KeyValueStore<String, StoredCandidate> candidates) {
    }

    /**
     * What the previous version left: query q1 gathering, one of its two candidates ("a") stored through
     * {@code candidateStore}, and q1's deadline (5 s) named as that version named it, by its query_id. The
     * processor is then initialised on it at wall clock 1 s, its record from partition 2, offset 7.
     */
    private Upgraded resumedAfterTheUpgrade(Scorer scorer, Serde<StoredCandidate> candidateStore, Serde<RankedResults> results) {
        GatherProcessor processor = GatherProcessorReinitTest.processor(SETTINGS, ScorerRouter.single(scorer), GatherListener.NONE, registry,
                results);
        MockProcessorContext<String, Outcome> context = new MockProcessorContext<>();
        KeyValueStore<String, QueryState> queries = GatherProcessorReinitTest.store(context, RerankTopology.STORES.queries(), new StoreSerde<>(QueryState.class, null));
        KeyValueStore<String, StoredCandidate> candidates = GatherProcessorReinitTest.store(context, RerankTopology.STORES.candidates(), candidateStore);
        KeyValueStore<String, String> deadlines = GatherProcessorReinitTest.store(context, RerankTopology.STORES.deadlines(), Serdes.String());
        queries.put("q1", QueryState.newBuilder().setQueryId("q1").setQuery("query q1").setFirstSeenMillis(0).setReceived(1).setExpected(2).build());
        candidates.put(GatherStore.candidateKey("q1", "a"), new StoredCandidate(candidate("a"), null));
        deadlines.put(GatherStore.waitKey(5_000, "q1"), "q1");
        context.setRecordMetadata(TOPIC, 2, 7);
        context.setCurrentSystemTimeMs(1_000);
        processor.init(context);
        return new Upgraded(processor, context, candidates);
    }

    private void aCandidateStoredByTheEarlierVersionIsDeadLetteredReencodedAndMarked(Function<RetrievalCandidate, byte[]> earlier) {
        Serde<RankedResults> results = new SpecificAvroSerde<>();
        results.configure(Map.of("schema.registry.url", "mock://" + scope), false);
        StatedScoreScorer failing = new StatedScoreScorer("stated") {
            @Override
            public List<Score> score(String query, List<String> passages) {
                throw new InferenceException("injected model fault", null);
            }
        };
        Upgraded upgraded = resumedAfterTheUpgrade(failing, restoredFromEarlierVersion(earlier), results);
        GatherProcessor processor = upgraded.processor();
        MockProcessorContext<String, Outcome> context = upgraded.context();
        KeyValueStore<String, StoredCandidate> candidates = upgraded.candidates();

        // After the upgrade, its second candidate completes it (read from the repartition topic, as an earlier
        // version's intake wrote it: the producer's bytes alone); scoring fails.
        byte[] produced = registry.serializer().serialize(TOPIC, candidate("b"));
        processor.process(new Record<>("q1", new GatherProcessor.Arrival(null, produced), 900L));

        List<Record<String, Outcome>> out = context.forwarded().stream()
                .map(f -> new Record<String, Outcome>(f.record().key(), f.record().value(), f.record().timestamp(), f.record().headers()))
                .toList();
        assertEquals(2, out.size(), "both candidates are dead letters");
        Record<String, Outcome> old = out.stream()
                .filter(r -> r.headers().lastHeader(DeadLetters.HEADER_REENCODED) != null).findFirst().orElseThrow();
        Record<String, Outcome> current = out.stream()
                .filter(r -> r.headers().lastHeader(DeadLetters.HEADER_REENCODED) == null).findFirst().orElseThrow();

        assertFalse(old.value().result());
        assertEquals(DeadLetters.REENCODED_EARLIER_STORE, header(old.headers(), DeadLetters.HEADER_REENCODED));
        assertEquals(DeadLetters.REASON_SCORING_FAILED, header(old.headers(), DeadLetters.HEADER_REASON));
        assertEquals("q1", new String(old.value().key(), StandardCharsets.UTF_8), "keyed by its query_id: its own key was not stored");
        assertEquals(candidate("a"), registry.deserializer().deserialize(TOPIC, old.value().value()), "re-encoded with this app's schema");
        assertNull(old.headers().lastHeader(DeadLetters.HEADER_TOPIC), "no source position was stored");

        assertEquals(DeadLetters.REASON_SCORING_FAILED, header(current.headers(), DeadLetters.HEADER_REASON));
        assertArrayEquals(produced, current.value().value(), "the producer's bytes");
        assertEquals(TOPIC, header(current.headers(), DeadLetters.HEADER_TOPIC));
        assertEquals("2", header(current.headers(), DeadLetters.HEADER_PARTITION));
        assertEquals("7", header(current.headers(), DeadLetters.HEADER_OFFSET));
        assertEquals(900L, current.timestamp(), "the candidate's own timestamp");
        assertNull(candidates.get(GatherStore.candidateKey("q1", "a")), "the old entry leaves the store with its query");
    }

    @Test
    void aCandidateStoredInTheSingleObjectEncodingBeforeTheUpgradeIsDeadLetteredReencodedAndMarked() {
        StoreSerde<RetrievalCandidate> previous = new StoreSerde<>(RetrievalCandidate.class, null);
        aCandidateStoredByTheEarlierVersionIsDeadLetteredReencodedAndMarked(c -> previous.serialize("changelog", c));
    }

    @Test
    void aCandidateStoredInTheRegistryWireFormatBeforeTheUpgradeIsDeadLetteredReencodedAndMarked() {
        aCandidateStoredByTheEarlierVersionIsDeadLetteredReencodedAndMarked(c -> registry.serializer().serialize("changelog", c));
    }

    @Test
    void aDeadlineStoredByTheEarlierVersionPassesByTheWatermarksAsThisVersionsDo() {
        // The previous version's deadline entries name no source partition (their value is the query_id); this
        // version's name one. Either passes once the input partitions' watermarks and the wall clock are past it.
        Serde<RankedResults> results = new SpecificAvroSerde<>();
        results.configure(Map.of("schema.registry.url", "mock://" + scope), false);
        Upgraded upgraded = resumedAfterTheUpgrade(new StatedScoreScorer("stated"), new CandidateStoreSerde(registry.deserializer()), results);
        GatherProcessor processor = upgraded.processor();
        MockProcessorContext<String, Outcome> context = upgraded.context();
        var deadlinePunctuator = context.scheduledPunctuators().stream()
                .filter(p -> p.getInterval().equals(SETTINGS.punctuateInterval())).findFirst().orElseThrow();

        context.setCurrentSystemTimeMs(7_000);
        processor.process(watermark(4_000));
        deadlinePunctuator.getPunctuator().punctuate(7_000);
        assertEquals(0, context.forwarded().size(), "the input partition has read to 4 s, before q1's deadline (5 s)");

        context.setCurrentSystemTimeMs(7_100);
        processor.process(watermark(6_000));
        List<Outcome> out = context.forwarded().stream().map(f -> (Outcome) f.record().value()).toList();
        assertEquals(1, out.size(), "read past q1's deadline: q1 goes out");
        assertEquals("q1", results.deserializer().deserialize(Topics.DEFAULT_RESULTS, out.get(0).value()).getQueryId());
        assertFalse(results.deserializer().deserialize(Topics.DEFAULT_RESULTS, out.get(0).value()).getComplete());
    }

    /** The watermark partition 0 of the candidates topic's intake sends every gathering task. */
    private static Record<String, GatherProcessor.Arrival> watermark(long millis) {
        return new Record<>(Watermark.KEY, new GatherProcessor.Arrival(null, new Watermark(Watermark.source(TOPIC, 0), millis).encode()), millis,
                new org.apache.kafka.common.header.internals.RecordHeaders().add(Watermark.HEADER, new byte[] {1}));
    }

    private static String header(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        assertNotNull(h, "missing header " + name + " in " + headers);
        return new String(h.value(), StandardCharsets.UTF_8);
    }
}
