package dev.kafkareranker.serde;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A Schema Registry for a development stack: {@link SchemaRegistryService} over HTTP, reachable by other
 * processes (the app, producers, Confluent's clients) at {@link #url()}. For development only: schemas live
 * in memory and are gone when the process ends, and nothing is authenticated. Production uses a real
 * Confluent-compatible registry (Confluent's, Apicurio's ccompat API, Karapace).
 */
public final class DevSchemaRegistryServer implements AutoCloseable {

    private final SchemaRegistryService registry = new SchemaRegistryService(1);
    private final ExecutorService handlers;
    private final HttpServer server;

    private DevSchemaRegistryServer(InetSocketAddress address) throws IOException {
        // A few handler threads: one slow client must not hold up the app's lookups.
        handlers = Executors.newFixedThreadPool(4, runnable -> {
            Thread thread = new Thread(runnable, "dev-schema-registry");
            thread.setDaemon(true);
            return thread;
        });
        try {
            server = HttpServer.create(address, 0);
        } catch (IOException e) {
            handlers.shutdownNow();
            throw e;
        }
        server.createContext("/", this::handle);
        server.setExecutor(handlers);
        server.start();
    }

    /** Listens on {@code address} (port 0: any free port). */
    public static DevSchemaRegistryServer start(InetSocketAddress address) throws IOException {
        return new DevSchemaRegistryServer(address);
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://HOST:PORT}, without a trailing slash. */
    public String url() {
        return "http://" + server.getAddress().getHostString() + ":" + port();
    }

    /** The registry it serves. */
    public SchemaRegistryService registry() {
        return registry;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            SchemaRegistryService.send(exchange, registry.handle(exchange.getRequestMethod(),
                    SchemaRegistryService.segments(exchange.getRequestURI().getRawPath()), body));
        }
    }

    @Override
    public void close() {
        server.stop(0);
        handlers.shutdownNow();
    }
}
