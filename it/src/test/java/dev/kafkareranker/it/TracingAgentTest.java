package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * With the OpenTelemetry Java agent attached (opentelemetry-javaagent, copied to target/agent by the it pom), the
 * tracing facade uses the agent's instance, not a second SDK: the spans reach Jaeger under the agent's resource
 * (its otel.service.name), with their links and children.
 */
class TracingAgentTest {

    private static final Path AGENT = Path.of("target", "agent", "opentelemetry-javaagent.jar").toAbsolutePath();

    @Test
    void withTheJavaAgentAttachedTheAgentsInstanceExportsTheQuerySpans() throws Exception {
        assertTrue(Files.isRegularFile(AGENT), AGENT + " (the it pom copies it at generate-test-resources)");
        try (JaegerBackend jaeger = JaegerBackend.start()) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-javaagent:" + AGENT,
                    "-Dotel.service.name=reranker-with-agent",
                    "-Dotel.exporter.otlp.endpoint=" + jaeger.otlpHttpEndpoint(),
                    "-Dotel.exporter.otlp.protocol=http/protobuf",
                    "-Dotel.metrics.exporter=none", "-Dotel.logs.exporter=none",
                    "-Dotel.bsp.schedule.delay=100",
                    "-cp", System.getProperty("java.class.path"), TracingAgentMain.class.getName()));
            Path out = Files.createTempFile("agent", ".out");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the agent's JVM did not finish: " + Files.readString(out));
            List<String> lines = Files.readAllLines(out);
            assertEquals(0, process.exitValue(), String.join("\n", lines));
            JsonNode printed = new ObjectMapper().readTree(lines.stream().filter(l -> l.startsWith("{\"tracing\"")).findFirst()
                    .orElseThrow(() -> new AssertionError("no result line: " + String.join("\n", lines))));
            assertEquals("the OpenTelemetry Java agent", printed.path("tracing").asText());
            String traceId = printed.path("traceparent").asText().split("-")[1];

            JsonNode trace = jaeger.awaitTrace(traceId, 6);
            JsonNode root = null;
            for (JsonNode span : trace.path("spans")) {
                if (span.path("operationName").asText().equals("rerank agent.candidates")) {
                    root = span;
                }
            }
            assertTrue(root != null, "the query span in " + trace);
            assertEquals(2, root.path("references").size(), "one link per candidate: " + root.path("references"));
            assertEquals("reranker-with-agent", trace.path("processes").path(root.path("processID").asText()).path("serviceName").asText(),
                    "exported by the agent's SDK, with its resource");
            System.out.println("tracing: with the Java agent, Jaeger holds trace " + traceId + " of " + trace.path("spans").size()
                    + " spans under service reranker-with-agent");
        }
    }
}
