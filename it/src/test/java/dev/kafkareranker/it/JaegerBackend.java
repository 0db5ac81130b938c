package dev.kafkareranker.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real trace backend for tests: Jaeger v1.75.0 (its all-in-one {@code cmd/jaeger}: OTLP in, traces in memory,
 * the query API over HTTP) on 127.0.0.1, started by {@code deploy/observability/jaeger}, which builds it from
 * the Go module proxy on a machine's first run (several minutes) and caches it under ~/.cache/kafka-reranker.
 */
final class JaegerBackend implements AutoCloseable {

    private static final Path SCRIPT = Path.of("..", "deploy", "observability", "jaeger").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Map<String, String> ports;
    private final HttpClient http = HttpClient.newHttpClient();

    private JaegerBackend(Path dir, Map<String, String> ports) {
        this.dir = dir;
        this.ports = ports;
    }

    static JaegerBackend start() throws Exception {
        Path dir = Files.createTempDirectory("jaeger");
        Path log = dir.resolve("start.log");
        Process process = new ProcessBuilder("bash", SCRIPT.toString(), "start", dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // A first run builds Jaeger (minutes on two busy cores); the deadline only bounds a hang.
        if (!process.waitFor(30, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("deploy/observability/jaeger start did not finish: " + Files.readString(log));
        }
        if (process.exitValue() != 0) {
            throw new AssertionError("deploy/observability/jaeger start exited " + process.exitValue() + ": " + Files.readString(log));
        }
        Map<String, String> ports = new HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("ports"))) {
            String[] kv = line.split("=", 2);
            ports.put(kv[0], kv[1]);
        }
        return new JaegerBackend(dir, ports);
    }

    /** Where OTLP over HTTP goes: {@code http://127.0.0.1:PORT} (the exporter appends /v1/traces). */
    String otlpHttpEndpoint() {
        return "http://127.0.0.1:" + ports.get("otlp_http");
    }

    /**
     * The trace {@code traceId} as Jaeger's query API answers it ({@code GET /api/traces/{id}}: spans with their
     * references and tags), once it holds at least {@code spans} spans of it.
     */
    JsonNode awaitTrace(String traceId, int spans) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + ports.get("query") + "/api/traces/" + traceId)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            last = response.statusCode() + " " + response.body();
            if (response.statusCode() == 200) {
                JsonNode data = JSON.readTree(response.body()).path("data");
                if (data.size() == 1 && data.get(0).path("spans").size() >= spans) {
                    return data.get(0);
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("Jaeger did not answer trace " + traceId + " with " + spans + " spans: " + last
                + "\n" + Files.readString(dir.resolve("jaeger.log")));
    }

    /** Jaeger's own log, for failure messages. */
    List<String> log() throws Exception {
        return Files.readAllLines(dir.resolve("jaeger.log"));
    }

    @Override
    public void close() throws Exception {
        new ProcessBuilder("bash", SCRIPT.toString(), "stop", dir.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
    }
}
