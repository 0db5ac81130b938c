package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kafkareranker.tracing.ModelBatch;
import dev.kafkareranker.tracing.QuerySpan;
import dev.kafkareranker.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * The tracing facade exporting to a real backend: a query span with its stages and one link per candidate's
 * {@code traceparent}, sent over OTLP/HTTP by the OpenTelemetry SDK that {@link Tracing#from} builds from
 * {@code otel.*} settings, read back from Jaeger's query API.
 */
class TracingJaegerTest {

    private static final long MS = 1_000_000L;

    @Test
    void aQuerySpanTreeWithCandidateLinksReachesJaegerOverOtlp() throws Exception {
        try (JaegerBackend jaeger = JaegerBackend.start()) {
            // Three producers' contexts, as the OpenTelemetry agent's or confluent-kafka's producers leave in headers.
            List<String> candidateTraceparents = List.of(
                    "00-11111111111111111111111111111111-1111111111111111-01",
                    "00-22222222222222222222222222222222-2222222222222222-01",
                    "00-33333333333333333333333333333333-3333333333333333-01");
            Headers result = new RecordHeaders();
            String queryTraceId;
            try (Tracing tracing = Tracing.from(Map.of(), Map.of(
                    "otel.exporter.otlp.endpoint", jaeger.otlpHttpEndpoint(),
                    "otel.exporter.otlp.protocol", "http/protobuf",
                    "otel.service.name", "kafka-reranker-test",
                    "otel.bsp.schedule.delay", "100"), false)) {
                assertTrue(tracing.enabled());
                long t0 = tracing.now();
                QuerySpan query = tracing.startQuery("rerank.candidates", "kafka-reranker", "q-jaeger", t0);
                for (String traceparent : candidateTraceparents) {
                    query.candidateArrived(new RecordHeaders().add("traceparent", traceparent.getBytes(StandardCharsets.UTF_8)));
                }
                query.gathered(t0, t0 + 30 * MS, 3, true);
                query.queued(t0 + 30 * MS, t0 + 32 * MS);
                query.tokenized(t0 + 32 * MS, t0 + 33 * MS, 3, 96);
                query.modelBatch(t0 + 33 * MS, t0 + 45 * MS, new ModelBatch(3, 96, 120, "CPUExecutionProvider", "bi-encoder", "1"));
                query.resultWritten(t0 + 45 * MS, t0 + 46 * MS, "rerank.results");
                query.injectInto(result);
                query.end(t0 + 46 * MS);
                queryTraceId = tracing.extract(result).getTraceId();
            } // close() flushes the batch span processor

            JsonNode trace = jaeger.awaitTrace(queryTraceId, 6);
            Map<String, JsonNode> byName = new TreeMap<>();
            for (JsonNode span : trace.path("spans")) {
                byName.put(span.path("operationName").asText(), span);
            }
            assertEquals(Set.of("rerank rerank.candidates", "gather", "queue", "tokenize", "model batch", "send rerank.results"),
                    byName.keySet());
            JsonNode root = byName.get("rerank rerank.candidates");
            String rootId = root.path("spanID").asText();
            Set<String> links = new TreeSet<>();
            for (JsonNode ref : root.path("references")) {
                links.add(ref.path("refType").asText() + " " + ref.path("traceID").asText() + "/" + ref.path("spanID").asText());
            }
            assertEquals(Set.of("FOLLOWS_FROM 11111111111111111111111111111111/1111111111111111",
                    "FOLLOWS_FROM 22222222222222222222222222222222/2222222222222222",
                    "FOLLOWS_FROM 33333333333333333333333333333333/3333333333333333"), links, "one link per candidate");
            for (String stage : List.of("gather", "queue", "tokenize", "model batch", "send rerank.results")) {
                List<String> parents = new ArrayList<>();
                for (JsonNode ref : byName.get(stage).path("references")) {
                    parents.add(ref.path("refType").asText() + " " + ref.path("spanID").asText());
                }
                assertEquals(List.of("CHILD_OF " + rootId), parents, stage);
            }
            Map<String, String> batchTags = tags(byName.get("model batch"));
            assertEquals("3", batchTags.get("rerank.batch.size"));
            assertEquals("120", batchTags.get("rerank.batch.padded_tokens"));
            assertEquals("CPUExecutionProvider", batchTags.get("rerank.device"));
            assertEquals("rerank", tags(root).get("messaging.operation.name"));
            assertEquals("00-" + queryTraceId + "-" + rootId + "-",
                    new String(result.lastHeader("traceparent").value(), StandardCharsets.UTF_8).substring(0, 53),
                    "the result names the query span");
            assertEquals(55, new String(result.lastHeader("traceparent").value(), StandardCharsets.UTF_8).length());
            JsonNode process = trace.path("processes").path(root.path("processID").asText());
            assertEquals("kafka-reranker-test", process.path("serviceName").asText());
            System.out.println("tracing: Jaeger holds trace " + queryTraceId + ": " + describe(byName, rootId));
        }
    }

    private static Map<String, String> tags(JsonNode span) {
        Map<String, String> out = new HashMap<>();
        for (JsonNode tag : span.path("tags")) {
            out.put(tag.path("key").asText(), tag.path("value").asText());
        }
        return out;
    }

    /** The span tree as text: the query span, its links, and its children by start time. */
    private static String describe(Map<String, JsonNode> byName, String rootId) {
        JsonNode root = byName.values().stream().filter(s -> s.path("spanID").asText().equals(rootId)).findFirst().orElseThrow();
        StringBuilder out = new StringBuilder("\n  " + root.path("operationName").asText() + " (" + root.path("duration").asLong()
                + " us, " + root.path("references").size() + " links)");
        byName.values().stream().filter(s -> !s.path("spanID").asText().equals(rootId))
                .sorted((a, b) -> Long.compare(a.path("startTime").asLong(), b.path("startTime").asLong()))
                .forEach(s -> out.append("\n    ").append(s.path("operationName").asText()).append(" (")
                        .append(s.path("duration").asLong()).append(" us)"));
        return out.toString();
    }
}
