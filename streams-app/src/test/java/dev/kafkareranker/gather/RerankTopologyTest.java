package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RerankTopologyTest {

    private static final Topics TOPICS = Topics.defaults();
    private static final Duration MAX_WAIT = Duration.ofSeconds(5);
    private static final Duration RETENTION = Duration.ofMinutes(10);

    private String scope;
    private TopologyTestDriver driver;
    private TestInputTopic<String, RetrievalCandidate> candidates;
    /** A second candidates topic, when the topology reads two ({@link #topics}): a second source partition. */
    private TestInputTopic<String, RetrievalCandidate> otherCandidates;
    private Topics topics = TOPICS;
    private TestInputTopic<byte[], byte[]> rawCandidates;
    private TestOutputTopic<String, RankedResults> results;
    private TestOutputTopic<byte[], byte[]> deadLetters;
    private org.apache.kafka.common.serialization.Serializer<RetrievalCandidate> candidateBytes;
    private final StatedScoreScorer scorer = new StatedScoreScorer("stated");

    @BeforeEach
    void start() throws Exception {
        startWith(ScorerRouter.single(scorer));
    }

    /** Watermarks every 200 ms: the tests move the wall clock in steps of that order. */
    private static final GatherSettings SETTINGS = new GatherSettings(MAX_WAIT, Duration.ofMillis(100), 3, 50, 4, 200, RETENTION, 4)
            .withWatermarks(Duration.ofMillis(200), GatherSettings.DEFAULT_WATERMARK_MAX_HOLD);

    private void startWith(ScorerRouter router) throws Exception {
        startWith(router, SETTINGS, null, null);
    }

    /**
     * @param appResults    the topology's results serde, null: the registry serde the test reads with
     * @param appCandidates the topology's candidates serde, null: the registry serde the test writes with
     */
    private void startWith(ScorerRouter router, GatherSettings settings, Serde<RankedResults> appResults,
                           Serde<RetrievalCandidate> appCandidates) throws Exception {
        startWith(router, settings, appResults, appCandidates, Map.of());
    }

    /** @param appProps further app settings */
    private void startWith(ScorerRouter router, GatherSettings settings, Serde<RankedResults> appResults,
                           Serde<RetrievalCandidate> appCandidates, Map<String, Object> appProps) throws Exception {
        startWith(router, settings, appResults, appCandidates, appProps, null);
    }

    /** @param partitions the partition count of each candidates topic the topology is told of; null: one each */
    private void startWith(ScorerRouter router, GatherSettings settings, Serde<RankedResults> appResults,
                           Serde<RetrievalCandidate> appCandidates, Map<String, Object> appProps, Map<String, Integer> partitions)
            throws Exception {
        if (driver != null) {
            driver.close();
        }
        scope = "topology-" + UUID.randomUUID();
        Map<String, Object> config = Map.of("schema.registry.url", "mock://" + scope);
        Serde<RetrievalCandidate> candidateSerde = serde(config);
        Serde<RankedResults> resultSerde = serde(config);
        Serde<QueryState> pendingSerde = serde(config);
        Map<String, Object> props = new HashMap<>(config);
        props.put("bootstrap.servers", "unused:9092");
        props.put("state.dir", Files.createTempDirectory("topology-test").toString());
        props.putAll(appProps);
        Properties streamsProps = new RerankerConfig(props).streamsProperties();
        RerankTopology.Wiring wiring = RerankTopology.Wiring.onePartitionEach(topics, settings);
        if (partitions != null) {
            wiring = new RerankTopology.Wiring(Map.of(), GatherListener.NONE, partitions, new ScoringBacklog(settings.maxInFlightQueries()));
        }
        driver = new TopologyTestDriver(RerankTopology.build(topics,
                new RerankTopology.Serdes3(appCandidates != null ? appCandidates : candidateSerde,
                        appResults != null ? appResults : resultSerde, pendingSerde), router, settings, wiring),
                streamsProps, Instant.parse("2026-01-01T00:00:00Z"));
        candidates = driver.createInputTopic(TOPICS.candidates(), new StringSerializer(), candidateSerde.serializer());
        if (topics.candidates().contains(",")) {
            otherCandidates = driver.createInputTopic(topics.candidates().split(",")[1], new StringSerializer(), candidateSerde.serializer());
        }
        rawCandidates = driver.createInputTopic(TOPICS.candidates(), new ByteArraySerializer(), new ByteArraySerializer());
        results = driver.createOutputTopic(TOPICS.results(), new StringDeserializer(), resultSerde.deserializer());
        deadLetters = driver.createOutputTopic(TOPICS.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        candidateBytes = candidateSerde.serializer();
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde(Map<String, Object> config) {
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(config, false);
        return serde;
    }

    @AfterEach
    void stop() {
        driver.close();
        MockSchemaRegistry.drop(scope);
    }

    private static RetrievalCandidate candidate(String queryId, String docId, String text, Integer rank, Integer count) {
        return RetrievalCandidate.newBuilder()
                .setQueryId(queryId)
                .setQuery("query " + queryId)
                .setDocId(docId)
                .setText(text)
                .setRetrievalRank(rank)
                .setCandidateCount(count)
                .setMetadata(Map.of("source", "test-" + docId))
                .build();
    }

    private static List<String> docIds(RankedResults r) {
        return r.getResults().stream().map(RankedDocument::getDocId).toList();
    }

    @Test
    void emitsAQueryOnceItsCandidateCountOfDistinctDocumentsHasArrived() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 3));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 3));
        assertTrue(results.isEmpty(), "two of three candidates must not emit");

        candidates.pipeInput("q1", candidate("q1", "c", "score=0.5", 3, 3));

        RankedResults r = results.readValue();
        assertEquals("q1", r.getQueryId());
        assertTrue(r.getComplete());
        assertEquals(3, r.getCandidatesReceived());
        assertEquals(3, r.getCandidatesExpected());
        assertEquals(List.of("b", "c", "a"), docIds(r));
        assertEquals(List.of(1, 2, 3), r.getResults().stream().map(RankedDocument::getRank).toList());
        assertEquals(0.9, r.getResults().get(0).getScore(), 1e-12);
        assertEquals(9.0, r.getResults().get(0).getLogit(), 1e-12);
        assertEquals("test-b", r.getResults().get(0).getMetadata().get("source"), "metadata passes through");
        assertEquals("stated", r.getModel().getName());
        assertTrue(results.isEmpty());
    }

    @Test
    void flushesAnIncompleteQueryAfterMaxWaitOfWallClockTime() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 5));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.4", 2, 5));
        driver.advanceWallClockTime(MAX_WAIT.minusMillis(200));
        assertTrue(results.isEmpty(), "must wait the whole max wait");

        driver.advanceWallClockTime(Duration.ofMillis(300));

        RankedResults r = results.readValue();
        assertFalse(r.getComplete());
        assertEquals(2, r.getCandidatesReceived());
        assertEquals(5, r.getCandidatesExpected());
        assertEquals(List.of("b", "a"), docIds(r));
        assertTrue(results.isEmpty());
        driver.advanceWallClockTime(MAX_WAIT.multipliedBy(2));
        assertTrue(results.isEmpty(), "an emitted query is not emitted again");
    }

    /** The driver's wall clock at the start; the tests below give their records timestamps from it. */
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void aQueryWaitsWhileTheInputBeforeItsDeadlineIsStillBeingRead() {
        // Wall clock passes q1's max wait while the records read carry earlier timestamps (a backlog after a
        // restart): q1's last candidate is among them, so q1 must wait for it instead of going out incomplete.
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        candidates.pipeInput("q2", candidate("q2", "x", "score=0.2", 1, 5), T0.plusSeconds(3));
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        assertTrue(results.isEmpty(), "stream time (3 s) has not reached q1's deadline (5 s): nothing is emitted");

        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 2), T0.plusSeconds(4));
        RankedResults q1 = results.readValue();
        assertTrue(q1.getComplete(), "q1's second candidate was produced within its max wait");
        assertEquals(T0, q1.getFirstCandidateTime(), "a query's time is its first candidate's timestamp");

        // A record past q2's deadline (3 s + 5 s) moves stream time on; once the wall clock is there too
        // (a query never goes out before its max wait), q2 is emitted, incomplete.
        candidates.pipeInput("q3", candidate("q3", "y", "score=0.2", 1, 5), T0.plusSeconds(9));
        driver.advanceWallClockTime(Duration.ofMillis(1_000));
        assertTrue(results.isEmpty(), "wall clock 7 s: q2's max wait (until 8 s) is not over");
        driver.advanceWallClockTime(Duration.ofMillis(1_200));
        RankedResults q2 = results.readValue();
        assertEquals("q2", q2.getQueryId());
        assertFalse(q2.getComplete());
        assertTrue(results.isEmpty(), "q3 (deadline 14 s) still waits");
    }

    /**
     * Two candidates topics, {@link #candidates} and {@link #otherCandidates}: two source partitions feeding one
     * gathering task, as intake tasks do through the repartition topic.
     */
    private void startWithTwoCandidatesTopics() throws Exception {
        topics = new Topics(TOPICS.candidates() + "," + TOPICS.candidates() + ".b", TOPICS.results(), TOPICS.deadLetters());
        startWith(ScorerRouter.single(scorer));
    }

    @Test
    void aQueryWaitsForItsOwnPartitionBehindABacklogWhileAnotherPartitionMovesStreamTimeOn() throws Exception {
        // The first partition's intake is behind (a backlog, a flood): its records reach the gatherer late,
        // with their earlier timestamps, while the other's recent records move stream time on.
        startWithTwoCandidatesTopics();
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        otherCandidates.pipeInput("q2", candidate("q2", "x", "score=0.2", 1, 5), T0.plusSeconds(6));
        candidates.pipeInput("q9", candidate("q9", "x", "score=0.2", 1, 5), T0.plusSeconds(1));
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        candidates.pipeInput("q9", candidate("q9", "y", "score=0.2", 2, 5), T0.plusSeconds(2));
        driver.advanceWallClockTime(Duration.ofSeconds(1));
        assertTrue(results.isEmpty(), "wall clock 7 s, stream time 6 s: both past q1's deadline (5 s), but its partition's"
                + " clock is at 2 s, so q1's second candidate may still be in the backlog");

        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 2), T0.plusSeconds(3));
        RankedResults q1 = results.readValue();
        assertEquals("q1", q1.getQueryId());
        assertTrue(q1.getComplete(), "q1's second candidate was produced within its max wait");

        // Once its partition's clock passes the deadline, a query goes out incomplete, whatever the other partition does.
        candidates.pipeInput("q8", candidate("q8", "z", "score=0.2", 1, 5), T0.plusSeconds(6));
        driver.advanceWallClockTime(Duration.ofMillis(200));
        RankedResults q9 = results.readValue();
        assertEquals("q9", q9.getQueryId());
        assertFalse(q9.getComplete());
        assertTrue(results.isEmpty(), "q2 (deadline 11 s) and q8 (11 s) still wait");
    }

    @Test
    void aQueryWaitsForEveryInputPartitionThatCouldStillHoldItsCandidates() throws Exception {
        // q1's candidates may come from either partition (a producer keying by doc_id): its max wait passes only
        // once both have read past its deadline, or gone idle. The other partition is busy, its clock behind.
        startWithTwoCandidatesTopics();
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        for (int s = 1; s <= 6; s++) {
            driver.advanceWallClockTime(Duration.ofSeconds(1));
            otherCandidates.pipeInput("q2", candidate("q2", "x" + s, "score=0.2", s, 50), T0.plusMillis(100L * s));
        }
        driver.advanceWallClockTime(Duration.ofMillis(200));
        assertTrue(results.isEmpty(), "q1's own partition is idle, but the other has read only to 0.6 s: q1's candidate may be behind it");

        otherCandidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 2), T0.plusMillis(700));
        RankedResults q1 = results.readValue();
        assertTrue(q1.getComplete(), "its second candidate came through the other partition, in time");

        // q3 starts at 6.2 s (its candidate's 7 s is ahead of this node's clock, so the node's time counts).
        otherCandidates.pipeInput("q3", candidate("q3", "y", "score=0.2", 1, 2), T0.plusSeconds(7));
        otherCandidates.pipeInput("q2", candidate("q2", "z", "score=0.2", 9, 50), T0.plusSeconds(11));
        driver.advanceWallClockTime(Duration.ofMillis(4_900));
        RankedResults q2 = results.readValue();
        assertEquals("q2", q2.getQueryId(), "both partitions past q2's deadline (5.1 s): the idle one by the wall clock, the busy one at 11 s");
        assertFalse(q2.getComplete());
        assertTrue(results.isEmpty(), "q3 (deadline 11.2 s) still waits: the busy partition has read to 11 s");
    }

    @Test
    void aSilentInputPartitionHoldsDeadlinesOnlyUpToTheMaxHold() throws Exception {
        // A partition whose intake never reports (its instance is gone) holds q1 past its max wait, up to
        // gather.watermark.max.hold.ms (30 s here) after the task started; then the wall clock decides.
        Map<String, Integer> partitions = Map.of(TOPICS.candidates(), 1, "elsewhere", 1);
        startWith(ScorerRouter.single(scorer), SETTINGS, null, null, Map.of(), partitions);
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        for (int s = 0; s < 29; s++) {
            driver.advanceWallClockTime(Duration.ofSeconds(1));
        }
        assertTrue(results.isEmpty(), "29 s: partition 0 of 'elsewhere' never reported, so q1's candidate may still be in it");
        driver.advanceWallClockTime(Duration.ofMillis(1_200));
        RankedResults q1 = results.readValue();
        assertEquals("q1", q1.getQueryId(), "30.2 s: the silent partition no longer holds it");
        assertFalse(q1.getComplete());
    }

    @Test
    void aTaskThatWasAwayLongerThanMaxWaitReadsItsBacklogBeforeTimingQueriesOut() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        // Punctuation stops for 30 s (a stream thread held up, or input paused): at its first punctuation
        // after that, q1's remaining candidate is still unread, so the max wait starts again.
        driver.advanceWallClockTime(Duration.ofSeconds(30));
        assertTrue(results.isEmpty(), "q1 must not time out before the input that came meanwhile is read");
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 2), T0.plusSeconds(1));
        assertTrue(results.readValue().getComplete());
    }

    @Test
    void aQueryGetsAWholeMaxWaitAfterTheInputIsResumed() throws Exception {
        java.util.concurrent.atomic.AtomicLong resumedAt = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
        ScorerRouter single = ScorerRouter.single(scorer);
        startWith(new ScorerRouter() {
            @Override
            public dev.kafkareranker.inference.Scorer forModel(String model) {
                return single.forModel(model);
            }

            @Override
            public long inputResumedAtMs() {
                return resumedAt.get();
            }
        });
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        driver.advanceWallClockTime(Duration.ofSeconds(4));
        // The input was paused (a model refusing work) and is resumed now, at 4 s: what came meanwhile is unread.
        resumedAt.set(T0.plusSeconds(4).toEpochMilli());
        driver.advanceWallClockTime(Duration.ofSeconds(2));
        assertTrue(results.isEmpty(), "6 s after q1's first candidate but 2 s after the resume: q1 still waits");
        driver.advanceWallClockTime(Duration.ofMillis(3_200));
        assertFalse(results.readValue().getComplete(), "a max wait after the resume with nothing read, q1 times out");
    }

    @Test
    void idleInputTimesAQueryOutByTheWallClock() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2), T0);
        driver.advanceWallClockTime(Duration.ofSeconds(4));
        driver.advanceWallClockTime(Duration.ofMillis(900));
        assertTrue(results.isEmpty(), "4.9 s of 5");
        driver.advanceWallClockTime(Duration.ofMillis(300));
        assertFalse(results.readValue().getComplete(), "no input for the max wait: the wall clock times q1 out");
    }

    @Test
    void queriesWithoutCandidateCountWaitForMaxWait() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, null));
        driver.advanceWallClockTime(MAX_WAIT.plusMillis(100));
        RankedResults r = results.readValue();
        assertFalse(r.getComplete());
        assertEquals(null, r.getCandidatesExpected());
    }

    @Test
    void countsTheSameDocumentOnce() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2));
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2));
        assertTrue(results.isEmpty(), "a repeated document must not complete the query");

        candidates.pipeInput("q1", candidate("q1", "b", "score=0.1", 2, 2));

        RankedResults r = results.readValue();
        assertTrue(r.getComplete());
        assertEquals(2, r.getCandidatesReceived());
        assertEquals(1, r.getDuplicates());
        assertEquals(List.of("a", "b"), docIds(r));
    }

    @Test
    void breaksScoreTiesByRetrievalRankThenDocId() {
        candidates.pipeInput("q1", candidate("q1", "z", "score=0.5", 3, 5));
        candidates.pipeInput("q1", candidate("q1", "y", "score=0.5", 1, 5));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.5", null, 5));
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.5", null, 5));
        candidates.pipeInput("q1", candidate("q1", "top", "score=0.6", 9, 5));

        RankedResults r = results.readValue();
        // Top-3 by default: the best score, then equal scores by retrieval rank (present before absent), then doc id.
        assertEquals(List.of("top", "y", "z"), docIds(r));
    }

    @Test
    void ranksIdenticallyWhateverTheArrivalOrder() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.5", null, 3));
        candidates.pipeInput("q1", candidate("q1", "c", "score=0.5", null, 3));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.5", null, 3));
        candidates.pipeInput("q2", candidate("q2", "b", "score=0.5", null, 3));
        candidates.pipeInput("q2", candidate("q2", "a", "score=0.5", null, 3));
        candidates.pipeInput("q2", candidate("q2", "c", "score=0.5", null, 3));
        assertEquals(List.of("a", "b", "c"), docIds(results.readValue()));
        assertEquals(List.of("a", "b", "c"), docIds(results.readValue()));
    }

    @Test
    void cutsToTheCandidatesTopKOrTheDefault() {
        for (int i = 0; i < 6; i++) {
            RetrievalCandidate c = candidate("q1", "d" + i, "score=0." + i, i + 1, 6);
            c.setTopK(2);
            candidates.pipeInput("q1", c);
        }
        RankedResults withTopK = results.readValue();
        assertEquals(List.of("d5", "d4"), docIds(withTopK));
        assertEquals(6, withTopK.getCandidatesReceived(), "received counts all candidates, not the kept ones");

        for (int i = 0; i < 6; i++) {
            candidates.pipeInput("q2", candidate("q2", "d" + i, "score=0." + i, i + 1, 6));
        }
        assertEquals(List.of("d5", "d4", "d3"), docIds(results.readValue()), "default top_k is 3 in this test");
    }

    @Test
    void rekeysCandidatesKeyedByAnythingButTheirQueryId() {
        candidates.pipeInput("doc-a", candidate("q1", "a", "score=0.1", 1, 3));
        candidates.pipeInput((String) null, candidate("q1", "b", "score=0.3", 2, 3));
        candidates.pipeInput("q1", candidate("q1", "c", "score=0.2", 3, 3));

        TestRecord<String, RankedResults> r = results.readRecord();
        assertEquals("q1", r.key());
        assertEquals(List.of("b", "c", "a"), docIds(r.value()));
        assertEquals(3, r.value().getCandidatesReceived(), "re-keyed and direct candidates meet in one query");
    }

    @Test
    void keepsGoingAfterARecordThatIsNotAvro() {
        // TopologyTestDriver (4.3) drops the dead letters of deserialization errors: its context has no
        // record collector for them. That they reach the topic on a real broker is checked in the it module.
        rawCandidates.pipeInput("q1".getBytes(StandardCharsets.UTF_8), "not avro at all".getBytes(StandardCharsets.UTF_8));

        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 1));
        RankedResults r = results.readValue();
        assertEquals("q1", r.getQueryId(), "the pipeline keeps running after a corrupt record");
        assertEquals(1, r.getCandidatesReceived(), "the corrupt record is not counted as a candidate");
    }

    @Test
    void sendsACandidateThatFailsProcessingToTheDeadLetterTopicWithItsOriginalBytes() {
        RetrievalCandidate bad = candidate("q1", "a", "", 1, 2);
        candidates.pipeInput("q1", bad);
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(TOPICS.candidates(), header(dead, "__streams.errors.topic"));
        assertEquals(InvalidCandidateException.class.getName(), header(dead, DeadLetters.HEADER_EXCEPTION));
        RetrievalCandidate decoded = (RetrievalCandidate) new SpecificAvroSerde<RetrievalCandidate>() {
            {
                configure(Map.of("schema.registry.url", "mock://" + scope), false);
            }
        }.deserializer().deserialize(TOPICS.candidates(), dead.value());
        assertEquals("a", decoded.getDocId(), "the dead letter holds the candidate as it arrived");
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.1", 1, 1));
        assertEquals("q1", results.readValue().getQueryId(), "the pipeline keeps running");
    }

    @Test
    void sendsACandidateWithBlankTextToTheDeadLetterTopic() {
        candidates.pipeInput("q1", candidate("q1", "a", "   ", 1, 2));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertTrue(header(dead, DeadLetters.HEADER_MESSAGE).contains("blank text"), header(dead, DeadLetters.HEADER_MESSAGE));
        assertTrue(results.isEmpty());
    }

    @Test
    void aCandidateNamingAnUnknownModelIsADeadLetterAloneAndItsQueryGoesOn() {
        RetrievalCandidate a = candidate("q1", "a", "score=0.1", 1, 2);
        a.setModel("no-such-model");
        candidates.pipeInput("q1", a);
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.2", 2, 2));

        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertEquals(1, dead.size(), "only the candidate that names the unknown model");
        assertEquals(DeadLetters.REASON_UNKNOWN_MODEL, header(dead.get(0), DeadLetters.HEADER_REASON));
        assertTrue(header(dead.get(0), DeadLetters.HEADER_MESSAGE).contains("no-such-model"));
        assertTrue(results.isEmpty(), "b waits for its second candidate");
        driver.advanceWallClockTime(MAX_WAIT.plusMillis(200));
        RankedResults r = results.readValue();
        assertEquals(List.of("b"), docIds(r));
        assertFalse(r.getComplete());
    }

    @Test
    void deadLettersAQueryWhoseScoringFails() throws Exception {
        Scorer failing = new StatedScoreScorer("stated") {
            @Override
            public List<Score> score(String query, List<String> passages) {
                throw new InferenceException("injected model fault", new RuntimeException("boom"));
            }
        };
        startWith(ScorerRouter.single(failing));
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 1));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_SCORING_FAILED, header(dead, DeadLetters.HEADER_REASON));
        assertNotNull(dead.value());
        assertTrue(results.isEmpty());
    }

    @Test
    void deadLettersACandidateThatArrivesAfterItsQueryWasEmitted() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 1));
        assertEquals(1, results.readValue().getCandidatesReceived());

        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 1));

        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_LATE, header(dead, DeadLetters.HEADER_REASON));
        assertEquals(TOPICS.candidates(), header(dead, DeadLetters.HEADER_TOPIC));
        assertTrue(header(dead, DeadLetters.HEADER_MESSAGE).contains("after the query was emitted"));
        driver.advanceWallClockTime(MAX_WAIT.multipliedBy(3));
        assertTrue(results.isEmpty(), "a late candidate does not start a second ranking");
    }

    @Test
    void aCandidateCountSmallerThanWhatArrivesEmitsAtTheCountAndDeadLettersTheRest() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 2));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.2", 2, 2));
        candidates.pipeInput("q1", candidate("q1", "c", "score=0.3", 3, 2));
        RankedResults r = results.readValue();
        assertTrue(r.getComplete());
        assertEquals(List.of("b", "a"), docIds(r));
        assertEquals(1, deadLetters.readRecordsToList().size(), "the third is late");
    }

    @Test
    void afterTheRetentionACandidateStartsANewQuery() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 1));
        results.readValue();
        driver.advanceWallClockTime(RETENTION.plusSeconds(1));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.2", 1, 1));
        assertEquals(List.of("b"), docIds(results.readValue()));
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void aNewQueryBeyondTheMaxPendingQueriesEmitsTheOldestIncomplete() {
        for (int q = 1; q <= 4; q++) {
            candidates.pipeInput("q" + q, candidate("q" + q, "a", "score=0.1", 1, 5));
            driver.advanceWallClockTime(Duration.ofMillis(10));
        }
        assertTrue(results.isEmpty(), "four pending queries fit under the cap of four");

        candidates.pipeInput("q5", candidate("q5", "a", "score=0.1", 1, 5));

        RankedResults oldest = results.readValue();
        assertEquals("q1", oldest.getQueryId());
        assertFalse(oldest.getComplete());
        assertTrue(results.isEmpty());
    }

    @Test
    void aQueryReachingTheCandidateCapIsEmittedIncomplete() throws Exception {
        for (int i = 0; i < 50; i++) {
            candidates.pipeInput("q1", candidate("q1", String.format("d%02d", i), "score=0.1", i + 1, 100));
        }
        RankedResults r = results.readValue();
        assertFalse(r.getComplete());
        assertEquals(50, r.getCandidatesReceived());
        assertEquals(100, r.getCandidatesExpected());
    }

    @Test
    void cutsTextsLongerThanTheCapBeforeStoringThem() {
        String longText = "score=0.7 " + "x".repeat(10_000);
        candidates.pipeInput("q1", candidate("q1", "a", longText, 1, 1));
        RankedResults r = results.readValue();
        assertEquals(0.7, r.getResults().get(0).getScore(), 1e-12, "the start of the text is what is scored");
        assertEquals(1, scorer.calls.get());
        assertEquals(200, scorer.longestPassage.get(), "the scorer saw the text cut to gather.max.passage.chars");
    }

    /** A gated model, and query q1 complete (two candidates) and handed to it. */
    private GatedScorer startGatedWithQ1Complete() throws Exception {
        GatedScorer gated = new GatedScorer();
        startWith(ScorerRouter.single(gated));
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 2));
        return gated;
    }

    @Test
    void theStreamThreadGoesOnGatheringWhileAQueryIsScoredAndForwardsEachWhenItsScoresArrive() throws Exception {
        GatedScorer gated = startGatedWithQ1Complete();
        candidates.pipeInput("q2", candidate("q2", "c", "score=0.4", 1, 1));
        assertTrue(gated.isScoring("query q1") && gated.isScoring("query q2"), "both handed over, neither waited for");
        assertTrue(results.isEmpty());

        candidates.pipeInput("q1", candidate("q1", "late", "score=1.0", 3, 2));
        assertEquals(DeadLetters.REASON_LATE, header(deadLetters.readRecord(), DeadLetters.HEADER_REASON),
                "a candidate arriving while its query is scored is late");

        gated.release("query q2");
        driver.advanceWallClockTime(Duration.ofMillis(1));
        assertEquals("q2", results.readValue().getQueryId(), "a query scored sooner goes out sooner");
        assertTrue(results.isEmpty());

        gated.release("query q1");
        driver.advanceWallClockTime(Duration.ofMillis(1));
        RankedResults q1 = results.readValue();
        assertEquals(List.of("b", "a"), docIds(q1));
        assertTrue(results.isEmpty() && deadLetters.isEmpty());
    }

    @Test
    void aQueryWhoseScoringFailsLaterBecomesDeadLetters() throws Exception {
        GatedScorer gated = startGatedWithQ1Complete();
        gated.fail("query q1", new InferenceException("injected fault", null));
        driver.advanceWallClockTime(Duration.ofMillis(1));
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertEquals(2, dead.size(), "both candidates");
        for (TestRecord<byte[], byte[]> d : dead) {
            assertEquals(DeadLetters.REASON_SCORING_FAILED, header(d, DeadLetters.HEADER_REASON));
            assertEquals("injected fault", header(d, DeadLetters.HEADER_MESSAGE));
        }
        assertTrue(results.isEmpty());
    }

    @Test
    void atTheInFlightCapReadyQueriesWaitInTheStoreAndAreHandedOverInOrderAsRoomFrees() throws Exception {
        GatedScorer gated = new GatedScorer();
        startWith(ScorerRouter.single(gated));
        for (int q = 0; q < 10; q++) {
            candidates.pipeInput("q" + q, candidate("q" + q, "a", "score=0.5", 1, 1));
        }
        assertEquals(4, gated.outstanding.get(), "gather.max.in.flight.queries=4 in this test's settings: the others wait");
        assertTrue(gated.isScoring("query q0") && gated.isScoring("query q3") && !gated.isScoring("query q4"), "the first four, in order");
        List<String> out = new java.util.ArrayList<>();
        for (int q = 0; q < 10; q++) {
            gated.release("query q" + q);
            driver.advanceWallClockTime(Duration.ofMillis(1));
            out.addAll(results.readValuesToList().stream().map(RankedResults::getQueryId).toList());
            assertTrue(gated.outstanding.get() <= 4, "never more than the cap in flight");
        }
        assertEquals(4, gated.mostOutstanding.get());
        assertEquals(java.util.stream.IntStream.range(0, 10).mapToObj(q -> "q" + q).toList(), out, "each once, in the order they were ready");
    }

    @Test
    void aQueryTheModelCannotScoreNowKeepsItsPlaceAndIsScoredOnceTheModelTakesWorkAgain() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean accepting = new java.util.concurrent.atomic.AtomicBoolean(true);
        GatedScorer gated = new GatedScorer() {
            @Override
            public boolean accepting() {
                return accepting.get();
            }
        };
        startWith(ScorerRouter.single(gated));
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.5", 1, 1));
        accepting.set(false);
        gated.fail("query q1", new dev.kafkareranker.inference.ModelUnavailableException("injected: the breaker is open"));
        driver.advanceWallClockTime(Duration.ofMillis(1));
        assertTrue(results.isEmpty() && deadLetters.isEmpty(), "the model's fault is not the query's: no dead letter, no result yet");
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertFalse(gated.isScoring("query q1"), "not handed over while the model refuses work");

        accepting.set(true);
        driver.advanceWallClockTime(Duration.ofMillis(1));
        assertTrue(gated.isScoring("query q1"), "handed over again once the model takes work");
        gated.release("query q1");
        driver.advanceWallClockTime(Duration.ofMillis(1));
        assertEquals("q1", results.readValue().getQueryId());
        assertTrue(results.isEmpty() && deadLetters.isEmpty());
    }

    // ---- Failure paths: a record's own fault is a dead letter, anything else fails the task ----

    /**
     * A results serde whose serializer fails {@code refusals} times, as when the registry cannot be reached to
     * register the schema, then writes as the test's own.
     */
    private Serde<RankedResults> failingResults(java.util.concurrent.atomic.AtomicInteger refusals) {
        // The test's registry scope is set when the driver starts, after this serde is made: looked up at each call.
        return org.apache.kafka.common.serialization.Serdes.serdeFrom((topic, r) -> {
            if (refusals.getAndDecrement() > 0) {
                throw new org.apache.kafka.common.errors.SerializationException("injected: the registry is unreachable");
            }
            return RerankTopologyTest.<RankedResults>serde(Map.of("schema.registry.url", "mock://" + scope)).serializer().serialize(topic, r);
        }, (topic, bytes) -> {
            throw new UnsupportedOperationException("the test reads with its own serde");
        });
    }

    @Test
    void aResultThatCannotBeSerializedNowIsWrittenLaterInsteadOfDeadLetteringItsCandidates() throws Exception {
        java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger(2);
        startWith(ScorerRouter.single(scorer), SETTINGS, failingResults(refusals), null);
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 2));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.9", 2, 2));
        assertTrue(results.isEmpty() && deadLetters.isEmpty(), "not written, and no candidate of the query is a dead letter");
        assertEquals(1, refusals.get(), "tried once");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertEquals(1, refusals.get(), "not again before the backoff (1 s)");
        driver.advanceWallClockTime(Duration.ofMillis(600));
        assertEquals(0, refusals.get(), "tried again after the backoff, refused again");
        assertTrue(results.isEmpty());
        driver.advanceWallClockTime(Duration.ofMillis(2_100));
        RankedResults r = results.readValue();
        assertEquals(List.of("b", "a"), docIds(r), "written once the serializer works, with the scores it had");
        assertEquals(1, scorer.calls.get(), "scored once: the scores were kept");
        assertTrue(results.isEmpty() && deadLetters.isEmpty());
    }

    /** A Schema Registry that answers every request with {@code status}. */
    private static com.sun.net.httpserver.HttpServer registryAnswering(int status) throws java.io.IOException {
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("{\"error_code\":" + status + "01,\"message\":\"injected\"}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    private void startReadingThroughRegistry(String url) throws Exception {
        SpecificAvroSerde<RetrievalCandidate> app = new SpecificAvroSerde<>();
        app.configure(Map.of("schema.registry.url", url), false);
        startWith(ScorerRouter.single(scorer), SETTINGS, null, app);
    }

    @Test
    void aRegistryThatCannotBeReachedOrAnswers503FailsTheTaskRatherThanDeadLetteringValidInput() throws Exception {
        java.net.ServerSocket closed = new java.net.ServerSocket(0);
        int refusedPort = closed.getLocalPort();
        closed.close();
        com.sun.net.httpserver.HttpServer unavailable = registryAnswering(503);
        com.sun.net.httpserver.HttpServer throttling = registryAnswering(429);
        try {
            for (String url : List.of("http://127.0.0.1:" + refusedPort, "http://127.0.0.1:" + unavailable.getAddress().getPort(),
                    "http://127.0.0.1:" + throttling.getAddress().getPort())) {
                startReadingThroughRegistry(url);
                RetrievalCandidate valid = candidate("q1", "a", "score=0.2", 1, 1);
                org.junit.jupiter.api.Assertions.assertThrows(org.apache.kafka.streams.errors.StreamsException.class,
                        () -> candidates.pipeInput("q1", valid), url);
                assertTrue(deadLetters.isEmpty(), "registry at " + url + ": a valid candidate must not become a dead letter");
            }
        } finally {
            unavailable.stop(0);
            throttling.stop(0);
        }
    }

    @Test
    void anUnknownSchemaIdIsADeadLetterWithItsReason() throws Exception {
        com.sun.net.httpserver.HttpServer notFound = registryAnswering(404);
        try {
            startReadingThroughRegistry("http://127.0.0.1:" + notFound.getAddress().getPort());
            candidates.pipeInput("q1", candidate("q1", "a", "score=0.2", 1, 1));
            TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
            assertEquals(Candidates.REASON_DESERIALIZATION, header(dead, DeadLetters.HEADER_REASON));
            // The registry client's words since its retry rework: "refused schema id 1 ... HTTP 404".
            String message = header(dead, DeadLetters.HEADER_MESSAGE);
            assertTrue(message.contains("schema id 1") && message.contains("404"), message);
        } finally {
            notFound.stop(0);
        }
    }

    @Test
    void bytesThatAreNotAvroAreADeadLetterWithTheirOriginalBytesAndKey() {
        rawCandidates.pipeInput("k".getBytes(StandardCharsets.UTF_8), "not avro at all".getBytes(StandardCharsets.UTF_8));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals("not avro at all", new String(dead.value(), StandardCharsets.UTF_8));
        assertEquals("k", new String(dead.key(), StandardCharsets.UTF_8));
        assertEquals(Candidates.REASON_DESERIALIZATION, header(dead, DeadLetters.HEADER_REASON));
        assertEquals(TOPICS.candidates(), header(dead, DeadLetters.HEADER_TOPIC));
        assertEquals("0", header(dead, DeadLetters.HEADER_OFFSET));
    }

    @Test
    void aRecordWrittenWithAnotherRecordTypesSchemaIsADeadLetterNotACrash() {
        Serde<RankedResults> other = serde(Map.of("schema.registry.url", "mock://" + scope));
        RankedResults notACandidate = RankedResults.newBuilder().setQueryId("q1").setQuery("q").setResults(List.of())
                .setModel(new dev.kafkareranker.avro.ModelInfo("m", "v")).setComplete(true).setCandidatesReceived(0)
                .setFirstCandidateTime(Instant.EPOCH).setEmittedTime(Instant.EPOCH).setScoringMs(0).build();
        rawCandidates.pipeInput("q1".getBytes(StandardCharsets.UTF_8), other.serializer().serialize(TOPICS.candidates(), notACandidate));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(Candidates.REASON_WRONG_TYPE, header(dead, DeadLetters.HEADER_REASON));
        candidates.pipeInput("q2", candidate("q2", "a", "score=0.1", 1, 1));
        assertEquals("q2", results.readValue().getQueryId(), "the pipeline keeps running");
    }

    @Test
    void aNulInAQueryIdNeverMixesTwoQueries() {
        String x = "X";
        String xy = "X\u0000y";
        candidates.pipeInput(x, candidate(x, "a", "score=0.1", 1, 2));
        candidates.pipeInput(xy, candidate(xy, "\u0000d", "score=0.2", 1, 3));
        candidates.pipeInput(xy, candidate(xy, "e", "score=0.3", 2, 3));
        candidates.pipeInput(x, candidate(x, "b", "score=0.4", 2, 2));
        RankedResults rx = results.readValue();
        assertEquals(x, rx.getQueryId());
        assertEquals(List.of("b", "a"), docIds(rx), "query X holds its own two candidates only");
        candidates.pipeInput(xy, candidate(xy, "f", "score=0.5", 3, 3));
        RankedResults rxy = results.readValue();
        assertEquals(xy, rxy.getQueryId());
        assertEquals(List.of("f", "e", "\u0000d"), docIds(rxy));
        assertTrue(rxy.getComplete());
        assertTrue(deadLetters.isEmpty());
    }

    private void assertDeadLetterReason(RetrievalCandidate c, String reason) {
        candidates.pipeInput(c.getQueryId(), c);
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(reason, header(dead, DeadLetters.HEADER_REASON), header(dead, DeadLetters.HEADER_MESSAGE));
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void impossibleValuesAreDeadLettersWithTheirReason() throws Exception {
        startWith(ScorerRouter.single(scorer), SETTINGS.withLimits(new GatherSettings.Limits(16, 40, 100_000)), null, null);
        assertDeadLetterReason(candidate("v1", "a", "score=0.1", 1, 0), Candidates.REASON_INVALID_COUNT);
        assertDeadLetterReason(candidate("v2", "a", "score=0.1", 1, -3), Candidates.REASON_INVALID_COUNT);
        RetrievalCandidate negativeTopK = candidate("v3", "a", "score=0.1", 1, 1);
        negativeTopK.setTopK(-1);
        assertDeadLetterReason(negativeTopK, Candidates.REASON_INVALID_TOP_K);
        assertDeadLetterReason(candidate("v4", "a", "\u200b\u00a0", 1, 1), Candidates.REASON_BLANK_FIELD);
        assertDeadLetterReason(candidate("v5", "\ufeff \u2060", "score=0.1", 1, 1), Candidates.REASON_BLANK_FIELD);
        assertDeadLetterReason(candidate("q".repeat(17), "a", "score=0.1", 1, 1), Candidates.REASON_ID_TOO_LONG);
        assertDeadLetterReason(candidate("v6", "d".repeat(17), "score=0.1", 1, 1), Candidates.REASON_ID_TOO_LONG);
        RetrievalCandidate bigMetadata = candidate("v7", "a", "score=0.1", 1, 1);
        bigMetadata.setMetadata(Map.of("k", "v".repeat(40)));
        assertDeadLetterReason(bigMetadata, Candidates.REASON_METADATA_TOO_LARGE);
        assertTrue(results.isEmpty(), "none of them started a query");
        candidates.pipeInput("ok", candidate("ok", "a", "score=0.1", 1, 1));
        assertEquals("ok", results.readValue().getQueryId());
    }

    @Test
    void conflictingQueryTextTopKOrCountKeepTheFirstsAndAreCountedInTheResult() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 3));
        RetrievalCandidate otherText = candidate("q1", "b", "score=0.2", 2, 3);
        otherText.setQuery("another query text");
        candidates.pipeInput("q1", otherText);
        candidates.pipeInput("q1", candidate("q1", "c", "score=0.3", 3, 7));
        RankedResults r = results.readValue();
        assertEquals("query q1", r.getQuery(), "the first candidate's query text");
        assertEquals(3, r.getCandidatesExpected(), "the first candidate's count");
        assertEquals(2, r.getConflicts());
        assertEquals(3, r.getCandidatesReceived(), "conflicting candidates are still ranked");
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void aCandidateNamingAnotherModelThanItsQuerysFirstIsADeadLetterAloneAndTheQueryGoesOn() throws Exception {
        StatedScoreScorer other = new StatedScoreScorer("other");
        startWith(model -> model == null || model.equals("stated") ? scorer : model.equals("other") ? other : ScorerRouter.single(scorer).forModel(model),
                SETTINGS, null, null);
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 2));
        RetrievalCandidate b = candidate("q1", "b", "score=0.9", 2, 2);
        b.setModel("other");
        candidates.pipeInput("q1", b);
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_MODEL_CONFLICT, header(dead, DeadLetters.HEADER_REASON));
        RetrievalCandidate c = candidate("q1", "c", "score=0.5", 3, 2);
        c.setModel("stated");
        candidates.pipeInput("q1", c);
        RankedResults r = results.readValue();
        assertEquals(List.of("c", "a"), docIds(r), "the default model by name is the query's model");
        assertEquals("stated", r.getModel().getName());
        assertEquals(0, other.calls.get());
    }

    @Test
    void aNanScoreNeverRanksFirst() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=NaN", 1, 3));
        candidates.pipeInput("q1", candidate("q1", "b", "score=0.1", 2, 3));
        candidates.pipeInput("q1", candidate("q1", "c", "score=0.3", 3, 3));
        assertEquals(List.of("c", "b", "a"), docIds(results.readValue()));
    }

    @Test
    void aResultOverResultsMaxBytesLosesItsLowestRankedMetadataFirstAndSaysSo() throws Exception {
        startWith(ScorerRouter.single(scorer), SETTINGS.withLimits(new GatherSettings.Limits(64, 65_536, 4_096)), null, null);
        for (int i = 0; i < 3; i++) {
            RetrievalCandidate c = candidate("q1", "d" + i, "score=0." + (i + 1), i + 1, 3);
            c.setMetadata(Map.of("blob", "m".repeat(1_500)));
            candidates.pipeInput("q1", c);
        }
        TestRecord<String, RankedResults> out = results.readRecord();
        RankedResults r = out.value();
        assertEquals(List.of("d2", "d1", "d0"), docIds(r), "every document is still there");
        assertFalse(r.getResults().get(0).getMetadata().isEmpty(), "the best keeps its metadata");
        assertTrue(r.getResults().get(2).getMetadata().isEmpty(), "the lowest ranked lost its metadata");
        assertNotNull(r.getTruncated());
        assertTrue(r.getTruncated().contains("metadata of"), r.getTruncated());
        assertTrue(deadLetters.isEmpty());
    }

    /** A candidate as a producer with a newer schema writes it: a field this app does not know ({@code language}). */
    private byte[] newerProducerBytes(String queryId, String docId, String text, int count) {
        org.apache.avro.Schema newer = org.apache.avro.SchemaBuilder.record("RetrievalCandidate").namespace("dev.kafkareranker.avro").fields()
                .requiredString("query_id").requiredString("query").requiredString("doc_id").requiredString("text")
                .name("candidate_count").type().optional().intType()
                .name("language").type().stringType().stringDefault("en").endRecord();
        org.apache.avro.generic.GenericRecord record = new org.apache.avro.generic.GenericData.Record(newer);
        record.put("query_id", queryId);
        record.put("query", "query " + queryId);
        record.put("doc_id", docId);
        record.put("text", text);
        record.put("candidate_count", count);
        record.put("language", "de");
        dev.kafkareranker.serde.AvroSerializer<org.apache.avro.generic.GenericRecord> generic = new dev.kafkareranker.serde.AvroSerializer<>();
        generic.configure(Map.of("schema.registry.url", "mock://" + scope), false);
        return generic.serialize(TOPICS.candidates(), record);
    }

    @Test
    void aDeadLetterWrittenAfterTheRepartitionCarriesTheProducersBytesKeyAndPosition() {
        byte[] produced = newerProducerBytes("q1", "b", "score=0.3", 1);

        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 1));
        results.readValue();
        rawCandidates.pipeInput("producer-key".getBytes(StandardCharsets.UTF_8), produced);
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_LATE, header(dead, DeadLetters.HEADER_REASON));
        org.junit.jupiter.api.Assertions.assertArrayEquals(produced, dead.value(), "the producer's bytes, schema id and new field included");
        assertEquals("producer-key", new String(dead.key(), StandardCharsets.UTF_8));
        assertEquals(TOPICS.candidates(), header(dead, DeadLetters.HEADER_TOPIC), "the candidates topic, not the repartition topic");
        assertEquals("1", header(dead, DeadLetters.HEADER_OFFSET));
        assertEquals(null, dead.headers().lastHeader("rerank.source.topic"), "the internal headers stay internal");
    }

    @Test
    void aDeadLetterOfACandidateReencodedAtIntakeSaysSoAndGivesTheProducedSize() {
        candidates.pipeInput("q1", candidate("q1", "a", "score=0.1", 1, 1));
        results.readValue();
        // Over CandidateIntake.MAX_RAW_BYTES and keyed by another key: re-encoded with its text cut before the repartition topic.
        byte[] produced = newerProducerBytes("q1", "b", "score=0.3 " + "x".repeat(CandidateIntake.MAX_RAW_BYTES), 1);
        rawCandidates.pipeInput("doc-b".getBytes(StandardCharsets.UTF_8), produced);
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_LATE, header(dead, DeadLetters.HEADER_REASON));
        assertEquals(Origin.REENCODED_AT_INTAKE + produced.length, header(dead, DeadLetters.HEADER_REENCODED));
        assertTrue(dead.value().length < produced.length, "the intake's cut copy: " + dead.value().length);

        // Keyed by its query_id, it skips the repartition topic; what the store keeps of it is cut the same way, so
        // that the candidate store's changelog takes it (a stored candidate holds its record as produced).
        byte[] direct = newerProducerBytes("q2", "c", "score=0.3 " + "x".repeat(CandidateIntake.MAX_RAW_BYTES), 2);
        rawCandidates.pipeInput("q2".getBytes(StandardCharsets.UTF_8), direct);
        TestOutputTopic<byte[], byte[]> changelog = driver.createOutputTopic("kafka-reranker-" + RerankTopology.STORES.candidates() + "-changelog",
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        for (TestRecord<byte[], byte[]> entry : changelog.readRecordsToList()) {
            int bytes = entry.value() == null ? 0 : entry.value().length;
            assertTrue(bytes < 1_048_576, "a changelog record the broker takes: " + bytes);
        }
        driver.advanceWallClockTime(MAX_WAIT.plusSeconds(1));
        assertEquals("q2", results.readValue().getQueryId());
        assertTrue(deadLetters.isEmpty());
    }

    /**
     * Sends query q1's two candidates as a newer producer writes them, one keyed by a key of its own and
     * with a header of its own, one with a null key, and checks that each of the query's dead letters
     * is that candidate as produced, with its candidates-topic position.
     */
    private void assertDeadLettersAreTheCandidatesAsProduced(String reason, Runnable betweenCandidates) {
        byte[] first = newerProducerBytes("q1", "a", "score=0.1", 2);
        byte[] second = newerProducerBytes("q1", "b", "score=0.2", 2);
        TestRecord<byte[], byte[]> keyed = new TestRecord<>("producer-key".getBytes(StandardCharsets.UTF_8), first,
                new org.apache.kafka.common.header.internals.RecordHeaders().add("trace-id", "t-1".getBytes(StandardCharsets.UTF_8)),
                Instant.parse("2026-01-01T00:00:00Z"));
        rawCandidates.pipeInput(keyed);
        betweenCandidates.run();
        rawCandidates.pipeInput(null, second, Instant.parse("2026-01-01T00:00:00.500Z"));

        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertEquals(2, dead.size(), "both candidates");
        assertTrue(results.isEmpty());
        TestRecord<byte[], byte[]> a = dead.stream().filter(d -> "0".equals(header(d, DeadLetters.HEADER_OFFSET))).findFirst().orElseThrow();
        TestRecord<byte[], byte[]> b = dead.stream().filter(d -> "1".equals(header(d, DeadLetters.HEADER_OFFSET))).findFirst().orElseThrow();
        for (TestRecord<byte[], byte[]> d : dead) {
            assertEquals(reason, header(d, DeadLetters.HEADER_REASON));
            assertEquals(TOPICS.candidates(), header(d, DeadLetters.HEADER_TOPIC), "the candidates topic, not the repartition topic");
            assertEquals("0", header(d, DeadLetters.HEADER_PARTITION));
            assertEquals(null, d.headers().lastHeader(DeadLetters.HEADER_REENCODED), "the producer's bytes, not a re-encoding");
            assertEquals(null, d.headers().lastHeader("rerank.source.topic"), "the internal headers stay internal");
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(first, a.value(), "the producer's bytes, schema id and new field included");
        assertEquals("producer-key", new String(a.key(), StandardCharsets.UTF_8), "the producer's key, not the query_id");
        assertEquals("t-1", header(a, "trace-id"), "the producer's own headers");
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), a.getRecordTime(), "the candidate's own timestamp");
        org.junit.jupiter.api.Assertions.assertArrayEquals(second, b.value());
        assertEquals(null, b.key(), "a null key stays null");
        assertEquals(null, b.headers().lastHeader("trace-id"));
    }

    @Test
    void aQueryWhoseScoringFailsDeadLettersEachCandidateAsProduced() throws Exception {
        Scorer failing = new StatedScoreScorer("stated") {
            @Override
            public List<Score> score(String query, List<String> passages) {
                throw new InferenceException("injected model fault", new RuntimeException("boom"));
            }
        };
        startWith(ScorerRouter.single(failing));
        assertDeadLettersAreTheCandidatesAsProduced(DeadLetters.REASON_SCORING_FAILED, () -> { });
    }

    @Test
    void aQueryWhoseModelIsGoneWhenItIsEmittedDeadLettersEachCandidateAsProduced() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean served = new java.util.concurrent.atomic.AtomicBoolean(true);
        startWith(model -> {
            if (!served.get()) {
                throw new UnknownModelException("the default model was unloaded");
            }
            return scorer;
        });
        // The model goes between the query's first candidate (checked then) and its last (which emits it).
        assertDeadLettersAreTheCandidatesAsProduced(DeadLetters.REASON_UNKNOWN_MODEL, () -> served.set(false));
    }

    @Test
    void aScoringFailedDeadLetterOverTheLimitIsCutAndStatesTheProducedSize() throws Exception {
        Scorer failing = new StatedScoreScorer("stated") {
            @Override
            public List<Score> score(String query, List<String> passages) {
                throw new InferenceException("injected model fault", null);
            }
        };
        // 16 KiB: room for the error headers (a stack trace of a few KiB) and some of the value; the store
        // keeps at most this much of the 40 KB value, so the dead letter cannot learn its size from what is stored.
        int maxBytes = 16_384;
        startWith(ScorerRouter.single(failing), SETTINGS, null, null, Map.of(RerankerConfig.DEAD_LETTERS_MAX_BYTES, Integer.toString(maxBytes)));
        byte[] produced = newerProducerBytes("q1", "a", "score=0.1 " + "x".repeat(40_000), 1);
        rawCandidates.pipeInput("k".getBytes(StandardCharsets.UTF_8), produced);
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_SCORING_FAILED, header(dead, DeadLetters.HEADER_REASON));
        assertEquals("value=" + produced.length, header(dead, DeadLetters.HEADER_TRUNCATED), "the size as produced, not as stored");
        assertTrue(dead.value().length > 0 && dead.value().length < maxBytes, "cut to dead.letters.max.bytes: " + dead.value().length);
        org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(produced, dead.value().length), dead.value(),
                "the producer's first bytes");
        int total = dead.value().length + dead.key().length;
        for (Header h : dead.headers()) {
            total += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        assertTrue(total <= maxBytes, "the whole dead letter fits dead.letters.max.bytes: " + total);
    }

    private static String header(TestRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        assertNotNull(h, "missing header " + name + " in " + record.headers());
        return new String(h.value(), StandardCharsets.UTF_8);
    }
}
