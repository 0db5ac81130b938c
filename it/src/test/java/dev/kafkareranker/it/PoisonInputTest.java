package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.DeadLetters;
import dev.kafkareranker.serde.AvroSerializer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Poison input on a real broker, one kind per test: each ends in a result or in a dead letter whose
 * headers give the reason, every candidate is accounted for, and the pipeline keeps running.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoisonInputTest {

    private static final String REGISTRY_SCOPE = "poison";
    private static final Duration MAX_WAIT = Duration.ofSeconds(3);
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private static TestCluster cluster;
    private static String registry;
    private static TestApp.Builder setup;
    private static RerankerApp app;
    private static KafkaProducer<byte[], byte[]> producer;
    private static AvroSerializer<RetrievalCandidate> serializer;
    private static ResultWatcher watcher;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(REGISTRY_SCOPE);
        registry = cluster.registryUrl();
        setup = TestApp.on(cluster.bootstrapServers(), registry, "poison").topics(2, 2).applicationId("poison-test")
                // Room for the 1 MB passage and 5 MB of garbage: the broker's default record limit is 1 MB.
                .candidatesTopicConfig("max.message.bytes", "8388608")
                .set(RerankerConfig.GATHER_MAX_WAIT_MS, MAX_WAIT.toMillis())
                .set("max.request.size", 4_194_304);
        app = setup.start();
        producer = new KafkaProducer<>(Map.of("bootstrap.servers", cluster.bootstrapServers(), "max.request.size", 8388608),
                new ByteArraySerializer(), new ByteArraySerializer());
        serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", registry), false);
        watcher = new ResultWatcher(setup.pipeline());
    }

    @AfterAll
    static void stop() throws Exception {
        if (watcher != null) {
            watcher.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (app != null) {
            app.close();
        }
        cluster.close();
    }

    @AfterEach
    void pipelineStillRuns() {
        assertTrue(app.state().isRunningOrRebalancing(), "state " + app.state());
    }

    private static RetrievalCandidate candidate(String queryId, String docId, String text, Integer count) {
        return RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery("what is kafka " + queryId).setDocId(docId)
                .setText(text).setCandidateCount(count).setMetadata(Map.of()).build();
    }

    private static void send(String key, RetrievalCandidate c) {
        send(key, serializer.serialize(setup.topics().candidates(), c));
    }

    private static void send(String key, byte[] value) {
        producer.send(new ProducerRecord<>(setup.topics().candidates(), key == null ? null : key.getBytes(StandardCharsets.UTF_8), value));
        producer.flush();
    }

    private static RankedResults awaitResult(String queryId) throws InterruptedException {
        watcher.awaitResultsFor(List.of(queryId), PATIENCE);
        return watcher.results.get(queryId);
    }

    private static ConsumerRecord<byte[], byte[]> awaitDeadLetter(Predicate<String> message) throws InterruptedException {
        List<ConsumerRecord<byte[], byte[]>> found = new ArrayList<>();
        Await.until("such a dead letter", PATIENCE, () -> {
            watcher.deadLetterRecords.stream().filter(d -> message.test(header(d, DeadLetters.HEADER_MESSAGE))).findFirst()
                    .ifPresent(found::add);
            return !found.isEmpty();
        }, () -> "not among " + watcher.deadLetterRecords.size() + " dead letters");
        return found.get(0);
    }

    /**
     * The dead letters keyed {@code queryId}, counted once the app has processed every candidate sent so far and the
     * watcher has read its output to the end ({@link Ledger#toTheEnd}): a count of all there are, not of what came soon.
     */
    private static long deadLettersFor(String queryId) throws InterruptedException {
        Ledger.toTheEnd(watcher, setup.pipeline(), PATIENCE);
        return watcher.deadLetterRecords.stream()
                .filter(d -> d.key() != null && new String(d.key(), StandardCharsets.UTF_8).equals(queryId)).count();
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        var h = record.headers().lastHeader(name);
        return h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** A healthy query after the poison: the pipeline still answers. */
    private static void canary(String name) throws InterruptedException {
        send("canary-" + name, candidate("canary-" + name, "d1", "kafka is a log", 1));
        assertEquals(1, awaitResult("canary-" + name).getCandidatesReceived());
    }

    @Test
    void bytesThatAreNotAvro() throws Exception {
        send("x1", "this is not avro".getBytes(StandardCharsets.UTF_8));
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("magic byte 0x74"));
        assertEquals("this is not avro", new String(dead.value(), StandardCharsets.UTF_8));
        assertEquals(setup.topics().candidates(), header(dead, DeadLetters.HEADER_TOPIC));
        canary("not-avro");
    }

    @Test
    void aWrongMagicByte() throws Exception {
        byte[] bytes = serializer.serialize(setup.topics().candidates(), candidate("x2", "d", "text", 1));
        bytes[0] = 2; // 1 would name a schema GUID (Confluent 8.0's wire format)
        send("x2", bytes);
        awaitDeadLetter(m -> m.contains("magic byte 0x02"));
        canary("magic");
    }

    @Test
    void anUnknownSchemaId() throws Exception {
        byte[] bytes = serializer.serialize(setup.topics().candidates(), candidate("x3", "d", "text", 1));
        ByteBuffer.wrap(bytes).putInt(1, 99_999);
        send("x3", bytes);
        awaitDeadLetter(m -> m.contains("Unknown schema id 99999"));
        canary("schema-id");
    }

    @Test
    void aRecordMissingARequiredField() throws Exception {
        GenericRecord record = TestProducers.candidateWithoutText("x4");
        AvroSerializer<GenericRecord> generic = new AvroSerializer<>();
        generic.configure(Map.of("schema.registry.url", registry), false);
        // A subject of its own: a real registry (BACKWARD) refuses this schema under the candidates' subject.
        send("x4", generic.serialize("poison.other-missing-text", record));
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("SerializationException") && m.contains("text"));
        assertEquals("deserialization", header(dead, DeadLetters.HEADER_REASON));
        assertTrue(header(dead, DeadLetters.HEADER_MESSAGE).contains("SerializationException"), header(dead, DeadLetters.HEADER_MESSAGE));
        canary("missing-field");
    }

    @Test
    void anEmptyQueryOrPassage() throws Exception {
        send("x5", candidate("x5", "d1", "", 2));
        RetrievalCandidate emptyQuery = candidate("x5", "d2", "a passage", 2);
        emptyQuery.setQuery(" ");
        send("x5", emptyQuery);
        awaitDeadLetter(m -> m.contains("x5 has a blank text"));
        awaitDeadLetter(m -> m.contains("x5 has a blank query"));
        canary("empty");
    }

    @Test
    void aOneMegabytePassageIsCutAndScored() throws Exception {
        String huge = "kafka ".repeat(1024 * 1024 / 6);
        send("x6", candidate("x6", "big", huge, 2));
        send("x6", candidate("x6", "small", "kafka streams", 2));
        RankedResults r = awaitResult("x6");
        assertEquals(2, r.getCandidatesReceived());
        assertTrue(r.getResults().stream().map(RankedDocument::getDocId).toList().contains("big"));
        assertEquals(0, deadLettersFor("x6"));
    }

    @Test
    void invalidUtf8() throws Exception {
        byte[] bytes = serializer.serialize(setup.topics().candidates(), candidate("x7", "d", "ZZZZ", 1));
        int at = new String(bytes, StandardCharsets.ISO_8859_1).indexOf("ZZZZ");
        bytes[at] = (byte) 0xC3;
        bytes[at + 1] = (byte) 0x28;
        send("x7", bytes);
        awaitDeadLetter(m -> m.contains("not valid UTF-8"));
        canary("utf8");
    }

    @Test
    void aNullKeyIsReKeyed() throws Exception {
        send(null, candidate("x8", "d1", "kafka", 2));
        send(null, candidate("x8", "d2", "streams", 2));
        RankedResults r = awaitResult("x8");
        assertTrue(r.getComplete());
        assertEquals(2, r.getCandidatesReceived());
    }

    @Test
    void aCandidateCountSmallerThanWhatArrives() throws Exception {
        send("x9", candidate("x9", "d1", "one", 2));
        send("x9", candidate("x9", "d2", "two", 2));
        send("x9", candidate("x9", "d3", "three", 2));
        RankedResults r = awaitResult("x9");
        assertTrue(r.getComplete());
        assertEquals(2, r.getCandidatesReceived());
        ConsumerRecord<byte[], byte[]> late = awaitDeadLetter(m -> m.contains("candidate d3 of query x9"));
        assertEquals(DeadLetters.REASON_LATE, header(late, DeadLetters.HEADER_REASON));
        assertEquals(1, deadLettersFor("x9"), "2 in the result + 1 dead letter = 3 in");
    }

    @Test
    void aCandidateCountLargerThanWhatArrives() throws Exception {
        send("x10", candidate("x10", "d1", "one", 5));
        send("x10", candidate("x10", "d2", "two", 5));
        RankedResults r = awaitResult("x10");
        assertFalse(r.getComplete(), "flushed after max wait");
        assertEquals(2, r.getCandidatesReceived());
        assertEquals(5, r.getCandidatesExpected());
    }

    @Test
    void theSameDocumentTwice() throws Exception {
        send("x11", candidate("x11", "d1", "one", 2));
        send("x11", candidate("x11", "d1", "one again", 2));
        send("x11", candidate("x11", "d2", "two", 2));
        RankedResults r = awaitResult("x11");
        assertEquals(2, r.getCandidatesReceived());
        assertEquals(1, r.getDuplicates(), "2 received + 1 duplicate = 3 in");
    }

    @Test
    void aCandidateAfterItsQueryWasEmitted() throws Exception {
        send("x12", candidate("x12", "d1", "one", 1));
        awaitResult("x12");
        send("x12", candidate("x12", "d2", "late", 1));
        ConsumerRecord<byte[], byte[]> late = awaitDeadLetter(m -> m.contains("candidate d2 of query x12"));
        assertEquals(DeadLetters.REASON_LATE, header(late, DeadLetters.HEADER_REASON));
    }

    @Test
    void anUnknownModelDeadLettersThatCandidateAloneAndItsQueryGoesOn() throws Exception {
        RetrievalCandidate a = candidate("x13", "d1", "one", 2);
        a.setModel("no-such-model");
        send("x13", a);
        send("x13", candidate("x13", "d2", "two", 1));
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("no-such-model"));
        assertEquals(DeadLetters.REASON_UNKNOWN_MODEL, header(dead, DeadLetters.HEADER_REASON));
        RankedResults r = awaitResult("x13");
        assertEquals(1, r.getCandidatesReceived(), "the other candidate is ranked");
        assertEquals(1, deadLettersFor("x13"), "1 in the result + 1 dead letter = 2 in");
    }


    // ---- Records that used to stop the pipeline on every restart (issue 14, item 1) ----

    @Test
    void aRecordWrittenWithTheRankedResultsSchemaIsADeadLetter() throws Exception {
        AvroSerializer<RankedResults> other = new AvroSerializer<>();
        other.configure(Map.of("schema.registry.url", registry), false);
        RankedResults notACandidate = RankedResults.newBuilder().setQueryId("y1").setQuery("q").setResults(List.of())
                .setModel(new dev.kafkareranker.avro.ModelInfo("m", "v")).setComplete(true).setCandidatesReceived(0)
                .setFirstCandidateTime(java.time.Instant.EPOCH).setEmittedTime(java.time.Instant.EPOCH).setScoringMs(0).build();
        send("y1", other.serialize("poison.other-ranked-results", notACandidate));
        // Refused by reader-schema resolution (deserialization: RankedResults is never instantiated), or, where a
        // decoder hands back another type, by the type check (wrong-type); either way the message names the writer.
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("dev.kafkareranker.avro.RankedResults"));
        assertTrue(List.of("wrong-type", "deserialization").contains(header(dead, DeadLetters.HEADER_REASON)),
                header(dead, DeadLetters.HEADER_REASON));
        canary("wrong-type");
    }

    @Test
    void fiveMegabytesOfGarbageBecomeADeadLetterCutToFit() throws Exception {
        byte[] garbage = new byte[5 * 1024 * 1024];
        new java.util.Random(14).nextBytes(garbage);
        garbage[0] = 0x7f;
        send("y2", garbage);
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("magic byte 0x7f"));
        assertEquals("value=" + garbage.length, header(dead, DeadLetters.HEADER_TRUNCATED));
        assertTrue(dead.value().length < 1_000_000, "cut to dead.letters.max.bytes: " + dead.value().length);
        canary("garbage-5mb");
    }

    @Test
    void garbageJustUnderAMegabyteWhoseCopyWithHeadersWouldNotFit() throws Exception {
        byte[] garbage = new byte[1_047_500];
        java.util.Arrays.fill(garbage, (byte) 0x41);
        send("y3", garbage);
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("magic byte 0x41"));
        assertEquals("value=1047500", header(dead, DeadLetters.HEADER_TRUNCATED));
        canary("garbage-1mb");
    }

    @Test
    void fiveMegabytesOfTextWithABlankQueryIdIsADeadLetterCutToFit() throws Exception {
        RetrievalCandidate c = candidate(" ", "d", "kafka ".repeat(5 * 1024 * 1024 / 6), 1);
        send("y4", c);
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("has a blank query_id"));
        assertEquals("blank-field", header(dead, DeadLetters.HEADER_REASON));
        assertTrue(header(dead, DeadLetters.HEADER_TRUNCATED).startsWith("value="));
        canary("blank-5mb");
    }

    @Test
    void aResultOverAMegabyteIsCutAndSaysSo() throws Exception {
        for (int d = 0; d < 20; d++) {
            RetrievalCandidate c = candidate("y5", "d" + d, "kafka passage " + d, 20);
            Map<String, String> metadata = new HashMap<>();
            for (int e = 0; e < 6_000; e++) {
                metadata.put("k" + e, "v".repeat(4));
            }
            c.setMetadata(metadata);
            c.setTopK(20);
            send("y5", c);
        }
        RankedResults r = awaitResult("y5");
        assertEquals(20, r.getCandidatesReceived());
        assertNotNull(r.getTruncated(), "20 x 6,000 metadata entries are over results.max.bytes");
        assertFalse(r.getResults().get(0).getMetadata().isEmpty(), "the best keeps its metadata");
        assertEquals(0, deadLettersFor("y5"));
    }

    @Test
    void anEightHundredKilobyteDocIdIsADeadLetterAndNeverAStoreKey() throws Exception {
        send("y6", candidate("y6", "d".repeat(800 * 1024), "kafka", 1));
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("gather.max.id.chars"));
        assertEquals("id-too-long", header(dead, DeadLetters.HEADER_REASON));
        canary("long-id");
    }

    @Test
    void aNulInAQueryIdDoesNotMixTwoQueries() throws Exception {
        send("y7", candidate("y7", "a", "kafka", 2));
        send("y7\u0000z", candidate("y7\u0000z", "b", "kafka", 3));
        send("y7\u0000z", candidate("y7\u0000z", "c", "streams", 3));
        send("y7", candidate("y7", "d", "streams", 2));
        send("y7\u0000z", candidate("y7\u0000z", "e", "log", 3));
        assertEquals(2, awaitResult("y7").getCandidatesReceived());
        RankedResults other = awaitResult("y7\u0000z");
        assertEquals(3, other.getCandidatesReceived());
        assertTrue(other.getComplete());
    }

    @Test
    void aCandidateCountOfZeroIsADeadLetter() throws Exception {
        send("y8", candidate("y8", "a", "kafka", 0));
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("candidate_count 0"));
        assertEquals("invalid-candidate-count", header(dead, DeadLetters.HEADER_REASON));
        canary("count-zero");
    }

    @Test
    void aTextOfOnlyZeroWidthAndNoBreakSpacesIsBlank() throws Exception {
        send("y9", candidate("y9", "a", "\u200b\u00a0", 1));
        ConsumerRecord<byte[], byte[]> dead = awaitDeadLetter(m -> m.contains("y9 has a blank text"));
        assertEquals("blank-field", header(dead, DeadLetters.HEADER_REASON));
        canary("invisible");
    }

    /**
     * Last: with every other test's input processed ({@link Drained}) and the outputs read to their end, no query
     * has two results, whatever a test before it sent.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void noQueryHasTwoResults() throws Exception {
        canary("final");
        Ledger.toTheEnd(watcher, setup.pipeline(), PATIENCE);
        assertEquals(Map.of(), watcher.perQuery.entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "queries with more than one result");
        assertNotNull(app.scorer());
    }
}
