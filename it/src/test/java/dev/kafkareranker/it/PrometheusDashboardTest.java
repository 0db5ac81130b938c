package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import dev.kafkareranker.serde.MockSchemaRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard and the alert rules in deploy/observability against a real Prometheus (Debian's
 * {@code prometheus} package, 2.42; {@code -Dit.prometheus} names another binary) scraping the real app on the
 * in-JVM broker through a short workload: every panel's query returns data, and every alert rule, loaded by
 * Prometheus from the rules file, parses and its expression evaluates to a vector.
 */
class PrometheusDashboardTest {

    private static final Path OBSERVABILITY = Path.of("..", "deploy", "observability").toAbsolutePath().normalize();
    private static final Path DASHBOARD = OBSERVABILITY.resolve("grafana-dashboard.json");
    private static final Path RULES = OBSERVABILITY.resolve("prometheus-alerts.yml");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String PREFIX = "dash";
    private static final int QUERIES = 12;
    private static final int CANDIDATES = 4;

    private static EmbeddedKafka kafka;
    private static RerankerApp app;
    private static Process prometheus;
    private static String prometheusUrl;
    private static Path prometheusLog;
    private static final String SCOPE = "dashboard-" + UUID.randomUUID();

    @BeforeAll
    static void start() throws Exception {
        String binary = System.getProperty("it.prometheus", "/usr/bin/prometheus");
        if (!Files.isExecutable(Path.of(binary))) {
            throw new IllegalStateException("it.prometheus='" + binary + "' is not an executable: install Debian's prometheus"
                    + " package (apt-get install prometheus; .ci/run does) or pass -Dit.prometheus=PATH");
        }
        kafka = EmbeddedKafka.start();
        app = TestApp.on(kafka.bootstrapServers(), "mock://" + SCOPE, PREFIX).topics(2, 1).applicationId("dashboard-" + UUID.randomUUID())
                .model(TestApp.BI_ENCODER).adminEndpoint().start();

        Path dir = Files.createTempDirectory("prometheus");
        int port = freePort();
        Path config = dir.resolve("prometheus.yml");
        // Scraped every second so a short workload leaves enough samples for rate() over [1m].
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - %s
                scrape_configs:
                  - job_name: kafka-reranker
                    metrics_path: /metrics
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(RULES, app.adminPort()));
        prometheusLog = dir.resolve("prometheus.log");
        prometheus = new ProcessBuilder(binary, "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(prometheusLog.toFile()).start();
        prometheusUrl = "http://127.0.0.1:" + port;
        await("Prometheus answering", () -> get("/-/ready").statusCode() == 200);
    }

    @AfterAll
    static void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(30, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        if (app != null) {
            app.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        MockSchemaRegistry.drop(SCOPE);
    }

    @Test
    void everyDashboardQueryReturnsDataAndEveryAlertRuleEvaluatesAfterAShortWorkload() throws Exception {
        // Scraped before the workload, so its counters' first increments show in rate() (they start at zero).
        await("Prometheus scraping the app", () -> value("sum(count_over_time(up[1m]))") >= 2 && value("max(up)") == 1);
        workload();
        // Prometheus has scraped the finished workload: every query counted, the dead letter too.
        await("Prometheus to see the workload", () -> value("sum(rerank_queries_total)") >= QUERIES
                && value("sum(rerank_dead_letters_total)") >= 1);
        // rate() over [1m] needs two samples after the last increase; the scrape is every second.
        await("more scrapes", () -> value("sum(count_over_time(up[1m]))") >= 5);

        Map<String, String> panels = dashboardQueries();
        assertTrue(panels.size() >= 10, "the dashboard's queries: " + panels.keySet());
        List<String> empty = new ArrayList<>();
        for (Map.Entry<String, String> panel : panels.entrySet()) {
            JsonNode answer = query(panel.getValue());
            assertEquals("success", answer.path("status").asText(), panel.getKey() + ": " + panel.getValue() + " -> " + answer);
            if (answer.path("data").path("result").isEmpty()) {
                empty.add(panel.getKey() + ": " + panel.getValue());
            }
            System.out.printf("dashboard: %-60s %d series%n", panel.getKey(), answer.path("data").path("result").size());
        }
        if (!empty.isEmpty()) {
            // What the app does export, to say which name moved.
            JsonNode names = JSON.readTree(get("/api/v1/label/__name__/values").body()).path("data");
            List<String> ours = new ArrayList<>();
            names.forEach(n -> {
                if (n.asText().startsWith("rerank_") || n.asText().contains("lag")) {
                    ours.add(n.asText());
                }
            });
            System.out.println("dashboard: metrics named rerank_* or *lag*: " + ours);
        }
        assertEquals(List.of(), empty, "dashboard queries with no data (a metric renamed, or never exported?)");

        JsonNode groups = JSON.readTree(get("/api/v1/rules").body()).path("data").path("groups");
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                assertEquals("ok", rule.path("health").asText(), rule.path("name").asText() + ": " + rule.path("lastError"));
                JsonNode answer = query(rule.path("query").asText());
                assertEquals("success", answer.path("status").asText(), rule.path("name").asText() + ": " + answer);
                assertEquals("vector", answer.path("data").path("resultType").asText(), rule.path("name").asText());
                alerts.add(rule.path("name").asText() + " (" + rule.path("state").asText() + ")");
            }
        }
        System.out.println("alerts: " + alerts);
        assertEquals(3, alerts.size(), "breaker open, dead-letter rate, results stalled: " + alerts);
        // The workload had one dead letter in a dozen queries' worth of candidates: above the rule's threshold.
        JsonNode deadLetterRate = query(ruleQuery(groups, "RerankerDeadLetterRate"));
        assertFalse(deadLetterRate.path("data").path("result").isEmpty(), "the dead-letter rule fires on the workload's poison record");
        assertTrue(query(ruleQuery(groups, "RerankerCircuitBreakerOpen")).path("data").path("result").isEmpty(),
                "no breaker is open");
    }

    private static String ruleQuery(JsonNode groups, String name) {
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.path("name").asText().equals(name)) {
                    return rule.path("query").asText();
                }
            }
        }
        throw new AssertionError("no alert rule " + name + " in " + RULES);
    }

    /** Every panel target's expression, Grafana's variables replaced as Grafana would for a 1-minute view. */
    private static Map<String, String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText()
                        .replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$model", ".*");
                out.put(panel.path("title").asText() + " [" + target.path("refId").asText() + "]", expr);
            }
        }
        return out;
    }

    private static void workload() throws Exception {
        Map<String, Object> serde = Map.of("schema.registry.url", "mock://" + SCOPE);
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(serde, false);
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), serializer);
             KafkaProducer<String, byte[]> raw = new KafkaProducer<>(
                     Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
            TestProducers.sendQueries(producer, PREFIX + ".candidates", "q", QUERIES, CANDIDATES);
            raw.send(new ProducerRecord<>(PREFIX + ".candidates", "poison", "not avro".getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    private static double value(String promql) throws Exception {
        JsonNode result = query(promql).path("data").path("result");
        return result.isEmpty() ? Double.NaN : result.get(0).path("value").get(1).asDouble();
    }

    private static JsonNode query(String promql) throws Exception {
        return JSON.readTree(get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).body());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(prometheusUrl + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private interface Check {
        boolean done() throws Exception;
    }

    /** Waits for {@code check}; the deadline only bounds a hang. */
    private static void await(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (check.done()) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            if (!prometheus.isAlive()) {
                throw new AssertionError("Prometheus exited: " + Files.readString(prometheusLog));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("timed out waiting for " + what + (last == null ? "" : ": " + last) + "\n"
                + Files.readString(prometheusLog));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
