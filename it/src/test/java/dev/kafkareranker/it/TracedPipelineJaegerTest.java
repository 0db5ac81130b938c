package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.gather.DeadLetters;
import dev.kafkareranker.serde.AvroDeserializer;
import dev.kafkareranker.serde.DevSchemaRegistryServer;
import dev.kafkareranker.tracing.Tracing;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/**
 * A query traced end to end on real parts: candidates written by Confluent's Python client (confluent-kafka 2.16.1,
 * its AvroSerializer) with a W3C {@code traceparent} header each, as a traced retriever leaves them; the app on the
 * in-JVM broker with the project's registry server, its query spans exported over OTLP/HTTP by the OpenTelemetry
 * SDK that {@link Tracing#from} builds from {@code otel.*} settings; Jaeger (deploy/observability/jaeger) read back
 * through its query API. Jaeger holds each query span with its stages as children and one link per candidate's
 * context; the result's {@code traceparent} names the query span; a late candidate's dead letter names a span of its
 * own, linked to its producer's context and to the query span it missed.
 */
class TracedPipelineJaegerTest {

    private static final Path CANDIDATE_SCHEMA = Path.of("..", "schemas", "src", "main", "avro", "RetrievalCandidate.avsc").toAbsolutePath();
    private static final Path VENV_SCRIPT = Path.of("src", "test", "python", "venv").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int QUERIES = 2;
    private static final int CANDIDATES = 4;
    private static final String PREFIX = "traced";
    private static final String CANDIDATES_TOPIC = PREFIX + ".candidates";
    private static final String RESULTS_TOPIC = PREFIX + ".results";

    /**
     * Writes QUERIES x CANDIDATES candidates (or, with --late QUERY_ID, one more candidate of that query), each with a
     * fresh traceparent as a traced producer's span would give it, through confluent-kafka's AvroSerializer with
     * prefix schema ids; prints {query_id: [traceparent, ...]} as one JSON line.
     */
    private static final String PRODUCER = """
            import argparse, json, secrets
            from confluent_kafka import Producer
            from confluent_kafka.schema_registry import SchemaRegistryClient
            from confluent_kafka.schema_registry.avro import AvroSerializer
            from confluent_kafka.serialization import MessageField, SerializationContext
            p = argparse.ArgumentParser()
            for a in ("--bootstrap", "--registry", "--topic", "--schema", "--late"):
                p.add_argument(a)
            p.add_argument("--queries", type=int)
            p.add_argument("--candidates", type=int)
            args = p.parse_args()
            serializer = AvroSerializer(SchemaRegistryClient({"url": args.registry}), open(args.schema).read(),
                                        conf={"auto.register.schemas": True})
            producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True})
            queries = [args.late] if args.late else [f"tq{q}" for q in range(args.queries)]
            docs = [args.candidates] if args.late else range(args.candidates)
            written = {}
            for query_id in queries:
                for d in docs:
                    value = {"query_id": query_id, "query": "how does kafka keep records in order",
                             "doc_id": f"{query_id}-d{d}", "text": f"passage {d}: kafka appends records to a partition's log",
                             "retrieval_score": None, "retrieval_rank": d + 1, "candidate_count": args.candidates,
                             "model": None, "top_k": None, "metadata": {}, "event_time": None}
                    traceparent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
                    payload = serializer(value, SerializationContext(args.topic, MessageField.VALUE, []))
                    producer.produce(args.topic, key=query_id.encode(), value=payload,
                                     headers=[("traceparent", traceparent.encode())])
                    written.setdefault(query_id, []).append(traceparent)
            if producer.flush(60):
                raise SystemExit("candidates not delivered within 60 s")
            print(json.dumps(written))
            """;

    @Test
    void confluentKafkasTracedCandidatesBecomeAQuerySpanInJaegerThatTheResultNames() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             DevSchemaRegistryServer registry = DevSchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", 0));
             JaegerBackend jaeger = JaegerBackend.start()) {
            String python = venvPython();
            Map<String, List<String>> produced = new TreeMap<>();
            Map<String, ConsumerRecord<byte[], byte[]>> results = new TreeMap<>();
            ConsumerRecord<byte[], byte[]> dead;
            String lateTraceparent;
            Tracing tracing = Tracing.from(Map.of(), Map.of(
                    "otel.exporter.otlp.endpoint", jaeger.otlpHttpEndpoint(),
                    "otel.service.name", "kafka-reranker-e2e",
                    "otel.bsp.schedule.delay", "100"), false);
            try (tracing) {
                assertTrue(tracing.enabled());
                TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), PREFIX).topics(2, 1).applicationId("traced-e2e")
                        .model(TestApp.BI_ENCODER).tracing(tracing);
                try (RerankerApp app = setup.start()) {
                    produced.putAll(produce(python, kafka, registry, null));
                    AvroDeserializer<RankedResults> reader = new AvroDeserializer<>();
                    reader.configure(Map.of("schema.registry.url", registry.url(), "specific.avro.value.type", RankedResults.class), false);
                    for (ConsumerRecord<byte[], byte[]> record : RawRecords.first(kafka.bootstrapServers(), RESULTS_TOPIC, QUERIES)) {
                        results.put(reader.deserialize(record.topic(), record.headers(), record.value()).getQueryId().toString(), record);
                    }
                    lateTraceparent = produce(python, kafka, registry, "tq0").get("tq0").get(0);
                    dead = RawRecords.first(kafka.bootstrapServers(), PREFIX + ".dlq", 1).get(0);
                }
            } // closing the Tracing flushes its batch span processor

            assertEquals(produced.keySet(), results.keySet(), "a result per query");
            String tq0Span = null;
            for (Map.Entry<String, ConsumerRecord<byte[], byte[]>> e : results.entrySet()) {
                String[] traceparent = header(e.getValue(), "traceparent").split("-");
                assertEquals(4, traceparent.length, "a W3C traceparent on the result of " + e.getKey());
                JsonNode trace = jaeger.awaitTrace(traceparent[1], 6);
                JsonNode root = querySpan(trace, traceparent[2]);
                assertEquals(Set.copyOf(links(produced.get(e.getKey()))), Set.copyOf(references(root)),
                        "one link per candidate's traceparent, as confluent-kafka wrote them");
                assertEquals(e.getKey(), tags(root).get("rerank.query_id"));
                assertEquals("kafka-reranker-e2e", trace.path("processes").path(root.path("processID").asText()).path("serviceName").asText());
                Map<String, List<JsonNode>> children = new TreeMap<>();
                for (JsonNode span : trace.path("spans")) {
                    if (!span.path("spanID").asText().equals(traceparent[2])) {
                        assertEquals(List.of("CHILD_OF " + traceparent[1] + "/" + traceparent[2]), references(span),
                                span.path("operationName").asText() + " is the query span's child");
                        children.computeIfAbsent(span.path("operationName").asText(), k -> new ArrayList<>()).add(span);
                    }
                }
                assertEquals(Set.of("gather", "queue", "tokenize", "model batch", "send " + RESULTS_TOPIC), children.keySet());
                assertEquals("true", tags(children.get("gather").get(0)).get("rerank.complete"));
                assertEquals(String.valueOf(CANDIDATES), tags(children.get("gather").get(0)).get("rerank.candidates"));
                for (JsonNode batch : children.get("model batch")) {
                    assertEquals("CPUExecutionProvider", tags(batch).get("rerank.device"));
                    assertTrue(Long.parseLong(tags(batch).get("rerank.batch.padded_tokens")) >= Long.parseLong(tags(batch).get("rerank.batch.tokens")));
                }
                if (e.getKey().equals("tq0")) {
                    tq0Span = traceparent[1] + "/" + traceparent[2];
                }
                System.out.println("tracing e2e: Jaeger holds query " + e.getKey() + " as trace " + traceparent[1] + describe(root, children));
            }

            assertEquals(DeadLetters.REASON_LATE, header(dead, DeadLetters.HEADER_REASON));
            String[] deadContext = header(dead, "traceparent").split("-");
            JsonNode lateSpan = querySpan(jaeger.awaitTrace(deadContext[1], 1), deadContext[2]);
            assertNotNull(tq0Span);
            Set<String> expected = new TreeSet<>(links(List.of(lateTraceparent)));
            expected.add("FOLLOWS_FROM " + tq0Span);
            assertEquals(expected, new TreeSet<>(references(lateSpan)), "the late candidate's producer and the query it missed");
            assertEquals(DeadLetters.REASON_LATE, tags(lateSpan).get("rerank.dead_letter.reason"));
        }
    }

    /** The span {@code spanId} of {@code trace}, which must be a query span: {@code rerank {candidates topic}}. */
    private static JsonNode querySpan(JsonNode trace, String spanId) {
        for (JsonNode span : trace.path("spans")) {
            if (span.path("spanID").asText().equals(spanId)) {
                assertEquals("rerank " + CANDIDATES_TOPIC, span.path("operationName").asText());
                return span;
            }
        }
        throw new AssertionError("no span " + spanId + " in " + trace);
    }

    /** W3C traceparents as Jaeger shows links: FOLLOWS_FROM trace/span. */
    private static List<String> links(List<String> traceparents) {
        List<String> out = new ArrayList<>();
        for (String t : traceparents) {
            String[] parts = t.split("-");
            out.add("FOLLOWS_FROM " + parts[1] + "/" + parts[2]);
        }
        return out;
    }

    private static List<String> references(JsonNode span) {
        List<String> out = new ArrayList<>();
        for (JsonNode ref : span.path("references")) {
            out.add(ref.path("refType").asText() + " " + ref.path("traceID").asText() + "/" + ref.path("spanID").asText());
        }
        return out;
    }

    private static Map<String, String> tags(JsonNode span) {
        Map<String, String> out = new HashMap<>();
        for (JsonNode tag : span.path("tags")) {
            out.put(tag.path("key").asText(), tag.path("value").asText());
        }
        return out;
    }

    /** The span tree as text, for the log: the query span with its link count, its children by start time. */
    private static String describe(JsonNode root, Map<String, List<JsonNode>> children) {
        StringBuilder out = new StringBuilder("\n  " + root.path("operationName").asText() + " (" + root.path("duration").asLong()
                + " us, " + root.path("references").size() + " links)");
        children.values().stream().flatMap(List::stream)
                .sorted((a, b) -> Long.compare(a.path("startTime").asLong(), b.path("startTime").asLong()))
                .forEach(s -> out.append("\n    ").append(s.path("operationName").asText()).append(" (")
                        .append(s.path("duration").asLong()).append(" us)"));
        return out.toString();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String key) {
        Header h = record.headers().lastHeader(key);
        assertNotNull(h, key + " header on " + record.topic());
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Runs the producer script with confluent-kafka; its last line maps query ids to the traceparents written. */
    private static Map<String, List<String>> produce(String python, EmbeddedKafka kafka, DevSchemaRegistryServer registry, String late)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(python, "-c", PRODUCER, "--bootstrap", kafka.bootstrapServers(),
                "--registry", registry.url(), "--topic", CANDIDATES_TOPIC, "--schema", CANDIDATE_SCHEMA.toString(),
                "--queries", String.valueOf(QUERIES), "--candidates", String.valueOf(CANDIDATES)));
        if (late != null) {
            command.addAll(List.of("--late", late));
        }
        JsonNode written = JSON.readTree(lastLine(command, 5));
        Map<String, List<String>> out = new TreeMap<>();
        written.fields().forEachRemaining(e -> {
            List<String> traceparents = new ArrayList<>();
            e.getValue().forEach(t -> traceparents.add(t.asText()));
            out.put(e.getKey(), traceparents);
        });
        return out;
    }

    /** The python of the venv with confluent-kafka that src/test/python/venv makes (cached), or -Dit.python. */
    private static String venvPython() throws Exception {
        String python = System.getProperty("it.python", "");
        return python.isBlank() ? lastLine(List.of("bash", VENV_SCRIPT.toString()), 15) : python;
    }

    private static String lastLine(List<String> command, int minutes) throws Exception {
        Path out = Files.createTempFile("traced-producer", ".out");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(command.get(0) + " did not finish within " + minutes + " minutes: " + Files.readString(out));
        }
        List<String> lines = Files.readAllLines(out);
        if (process.exitValue() != 0 || lines.isEmpty()) {
            throw new AssertionError(command.get(0) + " exited " + process.exitValue() + ":\n" + String.join("\n", lines));
        }
        return lines.get(lines.size() - 1).trim();
    }
}
