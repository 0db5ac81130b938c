package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.FakeHealthScorer;
import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/** The admin endpoint over real HTTP, serving a real model (the BERT cross-encoder fixture). */
class AdminServerTest {

    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static ModelRegistry registry(FakeHealthScorer[] last) {
        return ModelRegistry.withLoader(List.of(new ModelRegistry.Served("ranker", FIXTURE,
                InferenceOptions.defaults().withDevice(Device.parse("cpu")))), "ranker",
                m -> last[0] = new FakeHealthScorer(Scorers.open(ModelDirectory.load(m.dir()), m.options())));
    }

    private static AdminServer.Settings settings(Map<String, String> props) {
        return AdminServer.Settings.from(new RerankerConfig(Map.copyOf(props)));
    }

    private static HttpResponse<String> get(AdminServer server, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(AdminServer server, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void listensOnLoopbackByDefaultAndRefusesReloadUnlessEnabled() throws Exception {
        FakeHealthScorer[] scorer = new FakeHealthScorer[1];
        try (ModelRegistry models = registry(scorer);
             RerankerMetrics metrics = new RerankerMetrics(models);
             AdminServer server = new AdminServer(settings(Map.of("admin.port", "0")), metrics, models, () -> KafkaStreams.State.RUNNING)) {
            assertTrue(server.address().getAddress().isLoopbackAddress(), "bound to " + server.address());
            HttpResponse<String> refused = post(server, "/admin/models/ranker/reload");
            assertEquals(403, refused.statusCode());
            assertTrue(refused.body().contains("admin.reload.enabled"), refused.body());
            assertEquals(200, get(server, "/metrics").statusCode());
            assertEquals(200, get(server, "/health/ready").statusCode());
        }
    }

    @Test
    void reloadsWhenEnabledAndBindsWhereTold() throws Exception {
        FakeHealthScorer[] scorer = new FakeHealthScorer[1];
        try (ModelRegistry models = registry(scorer);
             RerankerMetrics metrics = new RerankerMetrics(models);
             AdminServer server = new AdminServer(settings(Map.of("admin.port", "0", "admin.bind.address", "0.0.0.0",
                     "admin.reload.enabled", "true")), metrics, models, () -> KafkaStreams.State.RUNNING)) {
            assertTrue(server.address().getAddress().isAnyLocalAddress(), "bound to " + server.address());
            HttpResponse<String> reloaded = post(server, "/admin/models/ranker/reload");
            assertEquals(200, reloaded.statusCode(), reloaded.body());
            assertTrue(reloaded.body().contains("\"version\": \"1\""), reloaded.body());
        }
    }

    @Test
    void readinessIsDownWhileAModelRefusesWorkAndLivenessWhenItsWorkerDied() throws Exception {
        FakeHealthScorer[] scorer = new FakeHealthScorer[1];
        try (ModelRegistry models = registry(scorer);
             RerankerMetrics metrics = new RerankerMetrics(models);
             AdminServer server = new AdminServer(settings(Map.of("admin.port", "0")), metrics, models, () -> KafkaStreams.State.RUNNING)) {
            assertEquals(200, get(server, "/health/ready").statusCode());
            scorer[0].report(new ModelHealth(ModelHealth.State.UNAVAILABLE, 3, "injected: CUDA error"));
            assertFalse(models.accepting());
            HttpResponse<String> ready = get(server, "/health/ready");
            assertEquals(503, ready.statusCode());
            assertTrue(ready.body().contains("model ranker UNAVAILABLE: injected: CUDA error"), ready.body());
            assertEquals(200, get(server, "/health/live").statusCode(), "an open breaker recovers by itself: no restart");
            scorer[0].report(new ModelHealth(ModelHealth.State.DEAD, 0, "the inference worker died"));
            assertEquals(503, get(server, "/health/live").statusCode(), "a dead worker needs a restart");
            scorer[0].report(ModelHealth.HEALTHY);
            assertEquals(200, get(server, "/health/ready").statusCode());
        }
    }
}
