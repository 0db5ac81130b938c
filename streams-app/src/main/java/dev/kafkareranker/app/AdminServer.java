package dev.kafkareranker.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kafkareranker.gather.UnknownModelException;
import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.serving.ModelRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a running pipeline: {@code GET /metrics} (Prometheus text), {@code GET /health/live}
 * (503 once Kafka Streams failed or a model's inference worker died: a restart is what helps),
 * {@code GET /health/ready} (200 while Kafka Streams is RUNNING, every model takes work and nothing the
 * pipeline depends on is missing; else 503 with one line per cause: the Kafka Streams state, a model whose
 * circuit breaker is open, no broker answering, a missing topic, the registry unreachable, or the error that
 * stopped the app, as {@link DependencyProbe} finds them), and {@code POST /admin/models/NAME/reload}, which
 * answers 403 unless {@code admin.reload.enabled=true}: it is unauthenticated and loads a full model copy.
 * It listens on {@code admin.bind.address}, loopback by default. The JDK's own HTTP server: four plain
 * endpoints do not justify a web framework's footprint.
 */
final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    /**
     * @param port          admin.port; 0 = any free port
     * @param bindAddress   admin.bind.address
     * @param reloadEnabled admin.reload.enabled
     */
    record Settings(int port, String bindAddress, boolean reloadEnabled) {

        static Settings from(RerankerConfig config) {
            return new Settings(config.getInt(RerankerConfig.ADMIN_PORT), config.getString(RerankerConfig.ADMIN_BIND_ADDRESS),
                    config.getBoolean(RerankerConfig.ADMIN_RELOAD_ENABLED));
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;

    AdminServer(Settings settings, RerankerMetrics metrics, ModelRegistry models, Supplier<KafkaStreams.State> state) throws IOException {
        this(settings, metrics, models, state, () -> "");
    }

    /** {@code dependencies}: empty while what the pipeline depends on (the Schema Registry) answers, else why not. */
    AdminServer(Settings settings, RerankerMetrics metrics, ModelRegistry models, Supplier<KafkaStreams.State> state,
                Supplier<String> dependencies) throws IOException {
        server = HttpServer.create(new InetSocketAddress(settings.bindAddress(), settings.port()), 0);
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "admin-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", exchange -> reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.createContext("/health/live", exchange -> {
            KafkaStreams.State s = state.get();
            boolean alive = s != KafkaStreams.State.ERROR && s != KafkaStreams.State.PENDING_ERROR && s != KafkaStreams.State.NOT_RUNNING;
            String dead = describe(models.health(), ModelHealth.State.DEAD);
            reply(exchange, alive && dead.isEmpty() ? 200 : 503, "text/plain", s.name() + "\n" + dead);
        });
        server.createContext("/health/ready", exchange -> {
            KafkaStreams.State s = state.get();
            String unavailable = describe(models.health(), null);
            String missing = dependencies.get();
            reply(exchange, s == KafkaStreams.State.RUNNING && unavailable.isEmpty() && missing.isEmpty() ? 200 : 503, "text/plain",
                    s.name() + "\n" + unavailable + (missing.isEmpty() ? "" : missing + "\n"));
        });
        server.createContext("/admin/models", exchange -> {
            String[] parts = exchange.getRequestURI().getPath().split("/");
            // /admin/models/NAME/reload
            if (!"POST".equals(exchange.getRequestMethod()) || parts.length != 5 || !"reload".equals(parts[4])) {
                reply(exchange, 404, "text/plain", "POST /admin/models/NAME/reload; served: " + models.names() + "\n");
                return;
            }
            if (!settings.reloadEnabled()) {
                reply(exchange, 403, "text/plain", "reload over HTTP is off (admin.reload.enabled=false): it is unauthenticated and "
                        + "loads a full model copy; set admin.reload.enabled=true on a trusted network, or let models.watch.interval.ms "
                        + "reload changed directories\n");
                return;
            }
            try {
                String version = models.reload(parts[3]);
                reply(exchange, 200, "application/json", "{\"model\": \"" + parts[3] + "\", \"version\": \"" + version + "\"}\n");
            } catch (UnknownModelException e) {
                reply(exchange, 404, "text/plain", e.getMessage() + "\n");
            } catch (RuntimeException e) {
                LOG.error("Reload of model {} failed; the current version stays", parts[3], e);
                reply(exchange, 500, "text/plain", "reload failed, the current version stays: " + e.getMessage() + "\n");
            }
        });
        server.start();
    }

    /** One line per model that is not healthy (only those in {@code only}, when given). */
    private static String describe(Map<String, ModelHealth> health, ModelHealth.State only) {
        StringBuilder out = new StringBuilder();
        health.forEach((name, h) -> {
            if (!h.accepting() && (only == null || h.state() == only)) {
                out.append("model ").append(name).append(' ').append(h.state()).append(": ").append(h.reason()).append('\n');
            }
        });
        return out.toString();
    }

    int port() {
        return server.getAddress().getPort();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
