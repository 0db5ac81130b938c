package dev.kafkareranker.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tracing facade on OpenTelemetry's SDK, spans read back from its in-memory exporter. */
class TracingTest {

    private static final String TRACEPARENT_A = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private static final String TRACEPARENT_B = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private static final long T0 = 1_700_000_000_000_000_000L;
    private static final long MS = 1_000_000L;

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();

    @AfterEach
    void close() {
        sdk.close();
    }

    private static Headers withTraceparent(String traceparent) {
        return new RecordHeaders().add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void withoutOpenTelemetrySettingsTracingIsOffAndCostsNoSpans() {
        Tracing off = Tracing.from(Map.of("PATH", "/usr/bin"), Map.of("java.version", "17"), false);
        assertFalse(off.enabled());
        QuerySpan span = off.startQuery("rerank.candidates", "app", "q1", off.now());
        assertSame(QuerySpan.NONE, span, "one shared no-op, nothing allocated per query");
        Headers headers = new RecordHeaders();
        span.candidateArrived(withTraceparent(TRACEPARENT_A));
        span.injectInto(headers);
        assertEquals(0, headers.toArray().length, "nothing written into a result's headers");
        assertFalse(off.extract(withTraceparent(TRACEPARENT_A)).isValid());
    }

    @Test
    void otelSettingsTurnItOnUnlessTheSdkIsDisabled() {
        try (Tracing on = Tracing.from(Map.of("OTEL_TRACES_EXPORTER", "none"), Map.of(), false)) {
            assertTrue(on.enabled(), on.describe());
        }
        try (Tracing on = Tracing.from(Map.of(), Map.of("otel.traces.exporter", "none"), false)) {
            assertTrue(on.enabled(), on.describe());
        }
        assertFalse(Tracing.from(Map.of("OTEL_SDK_DISABLED", "true", "OTEL_TRACES_EXPORTER", "none"), Map.of(), false).enabled());
        assertFalse(Tracing.from(Map.of(), Map.of("otel.sdk.disabled", "true"), false).enabled());
        // The default exporter, OTLP, is built (over HTTP by default) without a collector being there.
        try (Tracing on = Tracing.from(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"), Map.of(), false)) {
            assertTrue(on.enabled());
        }
        try (Tracing on = Tracing.from(Map.of(), Map.of("otel.exporter.otlp.protocol", "grpc"), false)) {
            assertTrue(on.enabled());
        }
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Tracing.from(Map.of("OTEL_TRACES_EXPORTER", "no-such-exporter"), Map.of(), false));
        assertTrue(bad.getMessage().contains("OTEL_SDK_DISABLED=true"), bad.getMessage());
        assertTrue(bad.getMessage().contains("no-such-exporter"), bad.getMessage());
    }

    @Test
    void aQuerySpanLinksEachCandidatesContextAndParentsItsStages() {
        Tracing tracing = Tracing.on(sdk, Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC));
        assertEquals(T0, tracing.now());
        QuerySpan query = tracing.startQuery("rerank.candidates", "kafka-reranker", "q-42", T0);
        query.candidateArrived(withTraceparent(TRACEPARENT_A));
        query.candidateArrived(withTraceparent(TRACEPARENT_B));
        query.candidateArrived(new RecordHeaders());                              // a producer without tracing
        query.candidateArrived(withTraceparent("00-not-a-valid-traceparent"));    // ignored, not an error
        query.gathered(T0, T0 + 40 * MS, 2, true);
        query.queued(T0 + 40 * MS, T0 + 45 * MS);
        query.tokenized(T0 + 45 * MS, T0 + 47 * MS, 2, 61);
        query.modelBatch(T0 + 47 * MS, T0 + 60 * MS, new ModelBatch(32, 1_500, 2_048, "CPUExecutionProvider", "minilm", "3"));
        query.resultWritten(T0 + 60 * MS, T0 + 61 * MS, "rerank.results");
        Headers result = new RecordHeaders().add("traceparent", "00-stale".getBytes(StandardCharsets.UTF_8));
        query.injectInto(result);
        query.end(T0 + 62 * MS);

        Map<String, SpanData> spans = exporter.getFinishedSpanItems().stream()
                .collect(Collectors.toMap(SpanData::getName, s -> s));
        assertEquals(List.of("gather", "model batch", "queue", "rerank rerank.candidates", "send rerank.results", "tokenize"),
                spans.keySet().stream().sorted().toList());
        SpanData root = spans.get("rerank rerank.candidates");
        assertEquals(SpanKind.CONSUMER, root.getKind());
        assertFalse(root.getParentSpanContext().isValid(), "a new trace per query");
        assertEquals(T0, root.getStartEpochNanos());
        assertEquals(T0 + 62 * MS, root.getEndEpochNanos());
        assertEquals("process", root.getAttributes().get(AttributeKey.stringKey("messaging.operation.type")));
        assertEquals("rerank", root.getAttributes().get(AttributeKey.stringKey("messaging.operation.name")));
        assertEquals("rerank.candidates", root.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")));
        assertEquals("kafka-reranker", root.getAttributes().get(AttributeKey.stringKey("messaging.consumer.group.name")));
        assertEquals("q-42", root.getAttributes().get(AttributeKey.stringKey("rerank.query_id")));
        assertEquals(2L, root.getAttributes().get(AttributeKey.longKey("messaging.batch.message_count")));
        assertEquals(List.of("0af7651916cd43dd8448eb211c80319c/b7ad6b7169203331", "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7"),
                root.getLinks().stream().map(LinkData::getSpanContext).map(c -> c.getTraceId() + "/" + c.getSpanId()).toList());
        for (String stage : List.of("gather", "queue", "tokenize", "model batch", "send rerank.results")) {
            assertEquals(root.getSpanContext().getSpanId(), spans.get(stage).getParentSpanId(), stage);
            assertEquals(root.getTraceId(), spans.get(stage).getTraceId(), stage);
        }
        SpanData batch = spans.get("model batch");
        assertEquals(T0 + 47 * MS, batch.getStartEpochNanos());
        assertEquals(32L, batch.getAttributes().get(AttributeKey.longKey("rerank.batch.size")));
        assertEquals(1_500L, batch.getAttributes().get(AttributeKey.longKey("rerank.batch.tokens")));
        assertEquals(2_048L, batch.getAttributes().get(AttributeKey.longKey("rerank.batch.padded_tokens")));
        assertEquals("CPUExecutionProvider", batch.getAttributes().get(AttributeKey.stringKey("rerank.device")));
        assertEquals(SpanKind.PRODUCER, spans.get("send rerank.results").getKind());

        assertEquals(1, result.toArray().length, "the stale traceparent replaced, not doubled");
        assertEquals("00-" + root.getTraceId() + "-" + root.getSpanId() + "-" + root.getSpanContext().getTraceFlags().asHex(),
                new String(result.lastHeader("traceparent").value(), StandardCharsets.UTF_8), "the result names the query span");
        assertEquals(root.getTraceId(), tracing.extract(result).getTraceId());
        assertEquals(root.getSpanId(), tracing.extract(result).getSpanId());
    }

    @Test
    void aDeadLetteredQueryEndsAsAnErrorWithItsReason() {
        Tracing tracing = Tracing.on(sdk, Clock.systemUTC());
        QuerySpan query = tracing.startQuery("rerank.candidates", "app", "q-7", tracing.now());
        Headers deadLetter = new RecordHeaders();
        query.injectInto(deadLetter);
        query.endDeadLettered(tracing.now(), "scoring-failed");

        SpanData root = exporter.getFinishedSpanItems().get(0);
        assertEquals(StatusCode.ERROR, root.getStatus().getStatusCode());
        assertEquals("scoring-failed", root.getAttributes().get(AttributeKey.stringKey("rerank.dead_letter.reason")));
        assertTrue(new String(deadLetter.lastHeader("traceparent").value(), StandardCharsets.UTF_8).contains(root.getSpanId()));
        assertNull(new RecordHeaders().lastHeader("traceparent"));
    }
}
