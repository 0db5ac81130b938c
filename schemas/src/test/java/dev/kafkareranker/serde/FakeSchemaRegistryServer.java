package dev.kafkareranker.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A FAKE Confluent Schema Registry for tests: the project's in-memory {@link SchemaRegistryService} (the REST
 * subset the serde uses, with the documented status codes, {@code error_code}s and messages) served on
 * {@link HttpServer} with faults on cue. It is not the real registry: no compatibility checks, no modes, no
 * contexts, no schema references. Optionally it demands HTTP basic auth (401 when the {@code Authorization}
 * header is missing or wrong).
 *
 * Faults can be injected for the next requests, whatever they ask: an HTTP status with an error body (503,
 * 429 with or without {@code Retry-After}, 500) or a slow answer ({@link #failNext}, {@link #delayNext}); every
 * request answered with a status until told otherwise ({@link #answerAllWith}, {@link #answerNormally}); and
 * refused connections ({@link #refuseConnections}, then {@link #acceptConnections} on the same port with the
 * same registered schemas), so an outage can be staged as connection refused, then 503s, then back.
 *
 * Every request is counted under its method and raw path so tests can assert what a caching client did or did
 * not ask.
 */
public final class FakeSchemaRegistryServer implements AutoCloseable {

    static final String CONTENT_TYPE = SchemaRegistryService.CONTENT_TYPE;

    private volatile HttpServer server;
    private final int port;
    private boolean listening = true; // guarded by "this"
    /** When not 0, the status every request gets (an outage), whatever {@link #faults} holds. */
    private volatile int outageStatus;
    private final Optional<String> expectedAuthorization;
    private final Map<String, AtomicInteger> requestCounts = new ConcurrentHashMap<>();
    private final AtomicInteger totalRequests = new AtomicInteger();
    private final List<Map<String, List<String>>> requestHeaders = new ArrayList<>();
    private final List<String> requestQueries = new ArrayList<>();
    // Several handler threads, so that a request delayed on purpose does not hold the next one back.
    private final ExecutorService handlers = Executors.newFixedThreadPool(4, runnable -> {
        Thread thread = new Thread(runnable, "fake-schema-registry");
        thread.setDaemon(true);
        return thread;
    });
    private final Deque<Fault> faults = new ArrayDeque<>();

    /** What the next request gets instead of its answer: a status with an error body, or a delay first. */
    private record Fault(int status, String retryAfter, Duration delay) {}

    /** The registry itself: what survives {@link #refuseConnections} and {@link #acceptConnections}. */
    private final SchemaRegistryService registry;

    private FakeSchemaRegistryServer(int firstId, Optional<String> userInfo) throws IOException {
        this(firstId, userInfo, 0);
    }

    private FakeSchemaRegistryServer(int firstId, Optional<String> userInfo, int port) throws IOException {
        this.registry = new SchemaRegistryService(firstId);
        this.expectedAuthorization = userInfo.map(info ->
                "Basic " + Base64.getEncoder().encodeToString(info.getBytes(StandardCharsets.UTF_8)));
        this.server = listen(port);
        this.port = server.getAddress().getPort();
    }

    private HttpServer listen(int port) throws IOException {
        HttpServer created = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        created.createContext("/", this::handle);
        created.setExecutor(handlers);
        created.start();
        return created;
    }

    /** Stops listening, keeping the registered schemas: clients now get "connection refused". */
    public synchronized void refuseConnections() {
        if (listening) {
            server.stop(0);
            listening = false;
        }
    }

    /** Listens again on the same port, with the same schemas, after {@link #refuseConnections}. */
    public synchronized void acceptConnections() throws IOException {
        if (!listening) {
            server = listen(port);
            listening = true;
        }
    }

    /** Every request is answered with {@code status} (503, say) and an error body until {@link #answerNormally}. */
    public void answerAllWith(int status) {
        outageStatus = status;
    }

    public void answerNormally() {
        outageStatus = 0;
    }

    /** An open, empty registry on {@code port}: a registry coming back after an outage, at the same URL. */
    static FakeSchemaRegistryServer startOnPort(int port) throws IOException {
        return new FakeSchemaRegistryServer(1, Optional.empty(), port);
    }

    /**
     * The next {@code count} requests are answered with {@code status} and an error body
     * ({@code error_code} = status * 100 + 1, as the registry's 50001-style codes), with a
     * {@code Retry-After} header when {@code retryAfter} is not null.
     */
    public synchronized void failNext(int count, int status, String retryAfter) {
        for (int i = 0; i < count; i++) {
            faults.add(new Fault(status, retryAfter, Duration.ZERO));
        }
    }

    /** The next {@code count} requests are answered (normally) only after {@code delay}. */
    public synchronized void delayNext(int count, Duration delay) {
        for (int i = 0; i < count; i++) {
            faults.add(new Fault(0, null, delay));
        }
    }

    /** The raw query string of every request so far (empty when none), oldest first. */
    synchronized List<String> requestQueries() {
        return List.copyOf(requestQueries);
    }

    /** An open registry whose first id is 1. */
    public static FakeSchemaRegistryServer start() throws IOException {
        return new FakeSchemaRegistryServer(1, Optional.empty());
    }

    /** An open registry whose ids start at {@code firstId}, so tests can tell ids apart from counters. */
    static FakeSchemaRegistryServer startWithFirstId(int firstId) throws IOException {
        return new FakeSchemaRegistryServer(firstId, Optional.empty());
    }

    /** A registry that demands HTTP basic auth with {@code user:password}. */
    static FakeSchemaRegistryServer startWithBasicAuth(String user, String password) throws IOException {
        return new FakeSchemaRegistryServer(1, Optional.of(user + ":" + password));
    }

    int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT}, without a trailing slash. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** How many requests arrived for {@code method} and the raw (still percent-encoded) {@code path}. */
    int requests(String method, String path) {
        AtomicInteger count = requestCounts.get(method + " " + path);
        return count == null ? 0 : count.get();
    }

    int totalRequests() {
        return totalRequests.get();
    }

    /** The headers of every request so far, oldest first; header names are case-insensitive keys. */
    synchronized List<Map<String, List<String>>> requestHeaders() {
        return List.copyOf(requestHeaders);
    }

    /** Registers an Avro schema directly, as another producer would have, without counting a request. */
    int registerDirectly(String subject, String schemaText) {
        return registry.registerDirectly(subject, schemaText);
    }

    /** Registers a schema of another type ({@code PROTOBUF}, {@code JSON}) directly; its text is not checked. */
    int registerDirectly(String subject, String schemaType, String schemaText) {
        return registry.registerDirectly(subject, schemaType, schemaText);
    }

    /** The GUID the registry gave the schema with {@code id} (null when none has that id). */
    java.util.UUID guidOf(int id) {
        return registry.guidOfId(id);
    }

    /** The subjects registered so far. */
    List<String> subjects() {
        return registry.subjects();
    }

    @Override
    public void close() {
        refuseConnections();
        handlers.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String rawPath = exchange.getRequestURI().getRawPath();
            requestCounts.computeIfAbsent(method + " " + rawPath, key -> new AtomicInteger()).incrementAndGet();
            totalRequests.incrementAndGet();
            synchronized (this) {
                Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, List.copyOf(values)));
                requestHeaders.add(Collections.unmodifiableMap(headers));
                String query = exchange.getRequestURI().getRawQuery();
                requestQueries.add(query == null ? "" : query);
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            int outage = outageStatus;
            if (outage != 0) {
                reply(exchange, outage, SchemaRegistryService.error(outage * 100 + 1, "injected outage: HTTP " + outage));
                return;
            }
            Fault fault;
            synchronized (this) {
                fault = faults.poll();
            }
            if (fault != null && !fault.delay.isZero()) {
                try {
                    Thread.sleep(fault.delay.toMillis());
                } catch (InterruptedException e) {
                    // Closed while delaying: the client sees the connection drop, as from a dying server.
                    Thread.currentThread().interrupt();
                    return;
                }
            } else if (fault != null) {
                if (fault.retryAfter != null) {
                    exchange.getResponseHeaders().set("Retry-After", fault.retryAfter);
                }
                reply(exchange, fault.status, SchemaRegistryService.error(fault.status * 100 + 1, "injected fault: HTTP " + fault.status));
                return;
            }
            if (expectedAuthorization.isPresent()
                    && !expectedAuthorization.get().equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"SchemaRegistry\"");
                reply(exchange, 401, SchemaRegistryService.error(401, "Unauthorized"));
                return;
            }
            SchemaRegistryService.send(exchange, registry.handle(method, SchemaRegistryService.segments(rawPath), body));
        }
    }

    private static void reply(HttpExchange exchange, int status, JsonNode body) throws IOException {
        SchemaRegistryService.send(exchange, new SchemaRegistryService.Reply(status, body));
    }

}
