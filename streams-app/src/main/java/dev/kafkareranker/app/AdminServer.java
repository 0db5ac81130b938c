package dev.kafkareranker.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kafkareranker.gather.UnknownModelException;
import dev.kafkareranker.serving.ModelRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a running pipeline: {@code GET /metrics} (Prometheus text), {@code GET /health/live},
 * {@code GET /health/ready} (200 once the models are loaded and Kafka Streams is RUNNING, else 503),
 * and {@code POST /admin/models/NAME/reload}. The JDK's own HTTP server: four plain endpoints do not
 * justify a web framework's footprint.
 */
final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    private final HttpServer server;

    AdminServer(int port, RerankerMetrics metrics, ModelRegistry models, Supplier<KafkaStreams.State> state) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 0);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "admin-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/metrics", exchange -> reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.createContext("/health/live", exchange -> {
            KafkaStreams.State s = state.get();
            boolean alive = s != KafkaStreams.State.ERROR && s != KafkaStreams.State.PENDING_ERROR && s != KafkaStreams.State.NOT_RUNNING;
            reply(exchange, alive ? 200 : 503, "text/plain", s.name() + "\n");
        });
        server.createContext("/health/ready", exchange -> {
            KafkaStreams.State s = state.get();
            reply(exchange, s == KafkaStreams.State.RUNNING ? 200 : 503, "text/plain", s.name() + "\n");
        });
        server.createContext("/admin/models", exchange -> {
            String[] parts = exchange.getRequestURI().getPath().split("/");
            // /admin/models/NAME/reload
            if (!"POST".equals(exchange.getRequestMethod()) || parts.length != 5 || !"reload".equals(parts[4])) {
                reply(exchange, 404, "text/plain", "POST /admin/models/NAME/reload; served: " + models.names() + "\n");
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

    int port() {
        return server.getAddress().getPort();
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
    }
}
