package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import dev.kafkareranker.tracing.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's query spans, made by the topology on OpenTelemetry's SDK and read back from its in-memory
 * exporter: a span per query linked to each candidate's {@code traceparent}, its stages as children (the engine's
 * from a real ONNX Runtime session), its context in the result's and dead letters' headers; and none of it without
 * tracing.
 */
class TracedTopologyTest {

    private static final Topics TOPICS = Topics.defaults();
    private static final Path MODEL = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
    private static final GatherSettings SETTINGS = new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 3, 50, 4, 200,
            Duration.ofMinutes(10), 4).withWatermarks(Duration.ofMillis(200), GatherSettings.DEFAULT_WATERMARK_MAX_HOLD);
    private static final List<String> PRODUCERS = List.of(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-5c1e8e7c2a1f4b3d9e8f7a6b5c4d3e2f-1a2b3c4d5e6f7081-01");

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    private final Tracing tracing = Tracing.on(sdk, Clock.systemUTC());

    private String scope;
    private TopologyTestDriver driver;
    private TestInputTopic<String, RetrievalCandidate> candidates;
    private TestOutputTopic<String, RankedResults> results;
    private TestOutputTopic<byte[], byte[]> deadLetters;
    private InferenceEngine engine;

    private void start(ScorerRouter router, Tracing withTracing) throws Exception {
        scope = "traced-" + UUID.randomUUID();
        Map<String, Object> config = Map.of("schema.registry.url", "mock://" + scope);
        Serde<RetrievalCandidate> candidateSerde = serde(config);
        Serde<RankedResults> resultSerde = serde(config);
        Serde<QueryState> querySerde = serde(config);
        Map<String, Object> props = new HashMap<>(config);
        props.put("bootstrap.servers", "unused:9092");
        props.put("application.id", "traced-app");
        props.put("state.dir", Files.createTempDirectory("traced-topology").toString());
        Properties streamsProps = new RerankerConfig(props).streamsProperties();
        driver = new TopologyTestDriver(RerankTopology.build(TOPICS, new RerankTopology.Serdes3(candidateSerde, resultSerde, querySerde),
                router, SETTINGS, RerankTopology.Wiring.onePartitionEach(TOPICS, SETTINGS).withTracing(withTracing)),
                streamsProps, Instant.parse("2026-01-01T00:00:00Z"));
        candidates = driver.createInputTopic(TOPICS.candidates(), new StringSerializer(), candidateSerde.serializer());
        results = driver.createOutputTopic(TOPICS.results(), new StringDeserializer(), resultSerde.deserializer());
        deadLetters = driver.createOutputTopic(TOPICS.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde(Map<String, Object> config) {
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(config, false);
        return serde;
    }

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.close();
        }
        if (engine != null) {
            engine.close();
        }
        sdk.close();
        if (scope != null) {
            MockSchemaRegistry.drop(scope);
        }
    }

    private InferenceEngine engine() {
        engine = Scorers.open(ModelDirectory.load(MODEL), InferenceOptions.defaults().withDevice(Device.parse("cpu")).withBatch(2, 4096)
                .withMaxQueueDelay(Duration.ofMillis(5)));
        return engine;
    }

    private static RetrievalCandidate candidate(String queryId, String docId, String text, int count) {
        return RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery("how does kafka keep records").setDocId(docId).setText(text)
                .setRetrievalRank(1).setCandidateCount(count).setMetadata(Map.of()).build();
    }

    private void send(RetrievalCandidate candidate, String traceparent) {
        Headers headers = new RecordHeaders();
        if (traceparent != null) {
            headers.add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8));
        }
        candidates.pipeInput(new TestRecord<>(candidate.getQueryId(), candidate, headers));
    }

    /** Moves the driver's wall clock in 1 ms steps (the forwarding punctuation) until a result is out; the deadline only bounds a hang. */
    private TestRecord<String, RankedResults> awaitResult() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (results.isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "no result within 2 minutes");
            driver.advanceWallClockTime(Duration.ofMillis(1));
            Thread.sleep(1);
        }
        return results.readRecord();
    }

    private static String header(Headers headers, String key) {
        Header h = headers.lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private List<SpanData> spans() {
        return exporter.getFinishedSpanItems();
    }

    private SpanData only(String name) {
        List<SpanData> named = spans().stream().filter(s -> s.getName().equals(name)).toList();
        assertEquals(1, named.size(), name + " among " + names());
        return named.get(0);
    }

    private List<String> names() {
        return spans().stream().map(SpanData::getName).sorted().toList();
    }

    private static Set<String> linked(SpanData span) {
        return span.getLinks().stream().map(LinkData::getSpanContext)
                .map(c -> "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex()).collect(Collectors.toSet());
    }

    /** A span's traceparent as the W3C propagator writes it (the SDK sets the random-trace-id flag too: 03). */
    private static String traceparent(SpanData span) {
        return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getSpanContext().getTraceFlags().asHex();
    }

    @Test
    void aQuerySpanLinksEachCandidateHasTheStagesAsChildrenAndNamesItselfInTheResult() throws Exception {
        start(ScorerRouter.single(engine()), tracing);
        send(candidate("q1", "a", "Kafka keeps records in partitions, each an append-only log.", 3), PRODUCERS.get(0));
        send(candidate("q1", "b", "Short.", 3), PRODUCERS.get(1));
        send(candidate("q1", "c", "A consumer group shares a topic's partitions among its members.", 3), PRODUCERS.get(2));
        TestRecord<String, RankedResults> result = awaitResult();
        assertEquals(3, result.value().getCandidatesReceived());

        SpanData query = only("rerank " + TOPICS.candidates());
        assertEquals(SpanKind.CONSUMER, query.getKind());
        assertFalse(query.getParentSpanContext().isValid(), "a new trace: one query gathers many producers' records");
        assertEquals(Set.copyOf(PRODUCERS), linked(query), "one link per candidate's traceparent");
        assertEquals("q1", query.getAttributes().get(AttributeKey.stringKey("rerank.query_id")));
        assertEquals("traced-app", query.getAttributes().get(AttributeKey.stringKey("messaging.consumer.group.name")));
        assertEquals("process", query.getAttributes().get(AttributeKey.stringKey("messaging.operation.type")));
        assertEquals(StatusCode.UNSET, query.getStatus().getStatusCode());
        assertEquals(traceparent(query), header(result.headers(), "traceparent"), "the result carries the query span's context");

        List<SpanData> children = spans().stream().filter(s -> s.getParentSpanContext().getSpanId().equals(query.getSpanId())).toList();
        assertEquals(spans().size() - 1, children.size(), "every other span is the query span's child: " + names());
        SpanData gather = only("gather");
        assertEquals(Boolean.TRUE, gather.getAttributes().get(AttributeKey.booleanKey("rerank.complete")));
        assertEquals(3L, gather.getAttributes().get(AttributeKey.longKey("rerank.candidates")));
        assertEquals(query.getStartEpochNanos(), gather.getStartEpochNanos(), "gathering starts with the query");
        SpanData tokenize = only("tokenize");
        assertEquals(3L, tokenize.getAttributes().get(AttributeKey.longKey("rerank.pairs")));
        assertTrue(tokenize.getAttributes().get(AttributeKey.longKey("rerank.tokens")) > 3 * 6);
        SpanData queue = only("queue");
        assertTrue(tokenize.getEndEpochNanos() <= queue.getStartEpochNanos(), "queued once tokenized");
        List<SpanData> batches = spans().stream().filter(s -> s.getName().equals("model batch"))
                .sorted((x, y) -> Long.compare(x.getStartEpochNanos(), y.getStartEpochNanos())).toList();
        assertEquals(2, batches.size(), "three rows in batches of at most two: " + names());
        assertEquals(queue.getEndEpochNanos(), batches.get(0).getStartEpochNanos(), "the queue ends as the first batch starts");
        long rows = 0;
        for (SpanData batch : batches) {
            assertEquals("CPUExecutionProvider", batch.getAttributes().get(AttributeKey.stringKey("rerank.device")));
            assertEquals(engine.modelName(), batch.getAttributes().get(AttributeKey.stringKey("rerank.model.name")));
            long real = batch.getAttributes().get(AttributeKey.longKey("rerank.batch.tokens"));
            long padded = batch.getAttributes().get(AttributeKey.longKey("rerank.batch.padded_tokens"));
            assertTrue(padded >= real && real > 0, real + " real, " + padded + " padded");
            rows += batch.getAttributes().get(AttributeKey.longKey("rerank.batch.size"));
        }
        assertEquals(3, rows, "this query alone ran: its three rows");
        SpanData send = only("send " + TOPICS.results());
        assertEquals(SpanKind.PRODUCER, send.getKind());
        assertTrue(send.getEndEpochNanos() <= query.getEndEpochNanos());
        for (SpanData child : children) {
            assertTrue(child.getStartEpochNanos() >= query.getStartEpochNanos() && child.getEndEpochNanos() <= query.getEndEpochNanos(),
                    child.getName() + " within the query span");
        }
    }

    @Test
    void withoutTracingTheResultCarriesNoContextAndDeadLettersKeepTheCandidatesOwn() throws Exception {
        start(ScorerRouter.single(new StatedScoreScorer("stated")), Tracing.off());
        send(candidate("q1", "a", "score=0.5", 1), PRODUCERS.get(0));
        TestRecord<String, RankedResults> result = results.readRecord();
        assertNull(result.headers().lastHeader("traceparent"));
        send(candidate("q1", "b", "score=0.5", 1), PRODUCERS.get(1));
        TestRecord<byte[], byte[]> late = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_LATE, header(late.headers(), DeadLetters.HEADER_REASON));
        assertEquals(PRODUCERS.get(1), header(late.headers(), "traceparent"), "the producer's header as produced");
        assertTrue(spans().isEmpty());
    }

    @Test
    void aQueryWhoseScoringFailsEndsInErrorAndItsDeadLettersCarryItsContext() throws Exception {
        Scorer failing = new StatedScoreScorer("stated") {
            @Override
            public List<Score> score(String query, List<String> passages) {
                throw new InferenceException("injected model fault", null);
            }
        };
        start(ScorerRouter.single(failing), tracing);
        send(candidate("q1", "a", "score=0.1", 2), PRODUCERS.get(0));
        send(candidate("q1", "b", "score=0.2", 2), PRODUCERS.get(1));
        List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
        assertEquals(2, dead.size());

        SpanData query = only("rerank " + TOPICS.candidates());
        assertEquals(StatusCode.ERROR, query.getStatus().getStatusCode());
        assertEquals(DeadLetters.REASON_SCORING_FAILED, query.getAttributes().get(AttributeKey.stringKey("rerank.dead_letter.reason")));
        assertEquals(Set.copyOf(PRODUCERS.subList(0, 2)), linked(query), "the candidates' own contexts stay linked");
        for (TestRecord<byte[], byte[]> d : dead) {
            assertEquals(DeadLetters.REASON_SCORING_FAILED, header(d.headers(), DeadLetters.HEADER_REASON));
            assertEquals(traceparent(query), header(d.headers(), "traceparent"), "each dead letter names the failed query's span");
            assertEquals(1, count(d.headers(), "traceparent"), "one traceparent: the candidate's own was replaced, not doubled");
        }
        assertEquals(List.of("gather", "rerank " + TOPICS.candidates()), names(), "no send span: nothing went to the results topic");
    }

    @Test
    void aLateCandidatesDeadLetterCarriesASpanLinkedToItsOwnContextAndToTheQuerySpan() throws Exception {
        start(ScorerRouter.single(new StatedScoreScorer("stated")), tracing);
        send(candidate("q1", "a", "score=0.5", 1), PRODUCERS.get(0));
        TestRecord<String, RankedResults> result = results.readRecord();
        SpanData query = only("rerank " + TOPICS.candidates());
        exporter.reset();

        send(candidate("q1", "b", "score=0.9", 1), PRODUCERS.get(1));
        TestRecord<byte[], byte[]> late = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_LATE, header(late.headers(), DeadLetters.HEADER_REASON));
        SpanData lateSpan = only("rerank " + TOPICS.candidates());
        assertEquals(Set.of(PRODUCERS.get(1), traceparent(query)), linked(lateSpan), "its own producer's context and the query it missed");
        assertEquals(StatusCode.ERROR, lateSpan.getStatus().getStatusCode());
        assertEquals(DeadLetters.REASON_LATE, lateSpan.getAttributes().get(AttributeKey.stringKey("rerank.dead_letter.reason")));
        assertEquals(traceparent(lateSpan), header(late.headers(), "traceparent"));
        assertEquals(1, count(late.headers(), "traceparent"));
        assertEquals(traceparent(query), header(result.headers(), "traceparent"));
    }

    @Test
    void aCandidateForAModelNotServedIsADeadLetterWithASpanOfItsOwn() throws Exception {
        start(ScorerRouter.single(new StatedScoreScorer("stated")), tracing);
        RetrievalCandidate unknown = candidate("q1", "a", "score=0.5", 1);
        unknown.setModel("not-served");
        send(unknown, PRODUCERS.get(2));
        TestRecord<byte[], byte[]> dead = deadLetters.readRecord();
        assertEquals(DeadLetters.REASON_UNKNOWN_MODEL, header(dead.headers(), DeadLetters.HEADER_REASON));
        assertTrue(results.isEmpty());

        SpanData span = only("rerank " + TOPICS.candidates());
        assertEquals(Set.of(PRODUCERS.get(2)), linked(span), "its producer's context; no query span to link to");
        assertEquals(StatusCode.ERROR, span.getStatus().getStatusCode());
        assertEquals(DeadLetters.REASON_UNKNOWN_MODEL, span.getAttributes().get(AttributeKey.stringKey("rerank.dead_letter.reason")));
        assertEquals(traceparent(span), header(dead.headers(), "traceparent"));
        assertEquals(1, count(dead.headers(), "traceparent"));
    }

    @Test
    void aTaskThatClosesEndsItsOpenSpansAsUnfinished() throws Exception {
        start(ScorerRouter.single(new StatedScoreScorer("stated")), tracing);
        send(candidate("q1", "a", "score=0.5", 3), PRODUCERS.get(0));
        assertTrue(spans().isEmpty(), "gathering: nothing ended yet");
        driver.close();
        driver = null;
        SpanData query = only("rerank " + TOPICS.candidates());
        assertEquals("task closed before the result", query.getAttributes().get(AttributeKey.stringKey("rerank.unfinished")));
        assertEquals(Set.of(PRODUCERS.get(0)), linked(query));
    }

    @Test
    void withTracingOffTheGatherersCallsAllocateNothing() {
        QueryTraces off = QueryTraces.OFF;
        QueryState query = QueryState.newBuilder().setQueryId("q").setQuery("x").setFirstSeenMillis(0).setReceived(1).build();
        List<Outcome> none = new ArrayList<>();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 2; round++) {  // the first round warms up
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 50_000; i++) {
                off.candidate(query, i == 0, null);
                off.ready(query, true);
                off.handingOver(query);
                off.written(null, off.writing(), none, null);
                off.forwarded();
            }
            allocated = threads.getThreadAllocatedBytes(id) - before;
        }
        assertTrue(allocated < 1_000, "bytes allocated by 50,000 untraced queries' calls: " + allocated);
    }

    private static int count(Headers headers, String key) {
        int n = 0;
        for (Header h : headers) {
            n += h.key().equals(key) ? 1 : 0;
        }
        return n;
    }
}
