package dev.kafkareranker.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
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
import org.apache.avro.Schema;

/**
 * A FAKE Confluent Schema Registry for tests: a tiny in-memory server on {@link HttpServer} that answers the
 * subset of the documented REST API the serde uses, with the documented status codes, {@code error_code}s,
 * messages and the {@code application/vnd.schemaregistry.v1+json} content type. It is not the real
 * registry: no compatibility checks, no modes, no contexts, no schema references.
 *
 * <ul>
 *   <li>{@code POST /subjects/{subject}/versions {"schema": "..."}} → {@code {"id": N}}</li>
 *   <li>{@code POST /subjects/{subject}} (lookup) → {@code {"subject","id","version","schema"}}, or 404 with
 *       40401 (subject not found) / 40403 (schema not found)</li>
 *   <li>{@code GET /subjects/{subject}/versions/latest} → {@code {"subject","id","version","schema"}} or 404 40401</li>
 *   <li>{@code GET /schemas/ids/{id}} → {@code {"schema": "..."}} or 404 40403</li>
 *   <li>{@code "schemaType"} other than AVRO is stored unchecked and echoed back, as a registry shared with
 *       Protobuf or JSON Schema producers would</li>
 *   <li>422 42201 for a body that is not a valid Avro schema; 401 when basic auth is required and the
 *       {@code Authorization} header is missing or wrong</li>
 * </ul>
 *
 * Faults can be injected for the next requests, whatever they ask: an HTTP status with an error body (503,
 * 429 with or without {@code Retry-After}, 500) or a slow answer ({@link #failNext}, {@link #delayNext}); every
 * request answered with a status until told otherwise ({@link #answerAllWith}, {@link #answerNormally}); and
 * refused connections ({@link #refuseConnections}, then {@link #acceptConnections} on the same port with the
 * same registered schemas), so an outage can be staged as connection refused, then 503s, then back.
 *
 * Ids are global and an identical schema keeps its id across subjects, as in the real registry. Every request
 * is counted under its method and raw path so tests can assert what a caching client did or did not ask.
 */
public final class FakeSchemaRegistryServer implements AutoCloseable {

    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private static final ObjectMapper JSON = new ObjectMapper();

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

    // Registry state, guarded by "this".
    private final Map<Integer, Stored> schemaById = new HashMap<>();
    private final Map<Object, Integer> idByKey = new HashMap<>();
    private final Map<String, List<Integer>> versionsBySubject = new HashMap<>();
    private int nextId;

    private FakeSchemaRegistryServer(int firstId, Optional<String> userInfo) throws IOException {
        this(firstId, userInfo, 0);
    }

    private FakeSchemaRegistryServer(int firstId, Optional<String> userInfo, int port) throws IOException {
        this.nextId = firstId;
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
    synchronized int registerDirectly(String subject, String schemaText) {
        return store(subject, new Stored("AVRO", schemaText, new Schema.Parser().parse(schemaText)));
    }

    /** Registers a schema of another type ({@code PROTOBUF}, {@code JSON}) directly; its text is not checked. */
    synchronized int registerDirectly(String subject, String schemaType, String schemaText) {
        return store(subject, new Stored(schemaType, schemaText, null));
    }

    /** The subjects registered so far. */
    synchronized List<String> subjects() {
        return List.copyOf(versionsBySubject.keySet());
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
                reply(exchange, outage, error(outage * 100 + 1, "injected outage: HTTP " + outage));
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
                reply(exchange, fault.status, error(fault.status * 100 + 1, "injected fault: HTTP " + fault.status));
                return;
            }
            if (expectedAuthorization.isPresent()
                    && !expectedAuthorization.get().equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"SchemaRegistry\"");
                reply(exchange, 401, error(401, "Unauthorized"));
                return;
            }
            Reply reply;
            try {
                reply = route(method, segments(rawPath), body);
            } catch (RuntimeException e) {
                reply = new Reply(500, error(50001, "Error in the backend data store: " + e));
            }
            reply(exchange, reply.status, reply.body);
        }
    }

    private record Reply(int status, JsonNode body) {}

    private static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String segment : rawPath.split("/")) {
            if (!segment.isEmpty()) {
                // Path segments: '+' is a literal plus, only %XX is an escape.
                out.add(URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private Reply route(String method, List<String> path, byte[] body) {
        int n = path.size();
        if (n == 3 && path.get(0).equals("subjects") && path.get(2).equals("versions") && method.equals("POST")) {
            return registerRequest(path.get(1), body);
        }
        if (n == 2 && path.get(0).equals("subjects") && method.equals("POST")) {
            return lookupRequest(path.get(1), body);
        }
        if (n == 4 && path.get(0).equals("subjects") && path.get(2).equals("versions")
                && path.get(3).equals("latest") && method.equals("GET")) {
            return latestRequest(path.get(1));
        }
        if (n == 3 && path.get(0).equals("schemas") && path.get(1).equals("ids") && method.equals("GET")) {
            return byIdRequest(path.get(2));
        }
        return new Reply(404, error(404, "HTTP 404 Not Found"));
    }

    private synchronized Reply registerRequest(String subject, byte[] body) {
        Optional<Stored> parsed = parseSchemaBody(body);
        if (parsed.isEmpty()) {
            return invalidSchema();
        }
        int id = store(subject, parsed.get());
        return new Reply(200, JSON.createObjectNode().put("id", id));
    }

    private synchronized Reply lookupRequest(String subject, byte[] body) {
        Optional<Stored> parsed = parseSchemaBody(body);
        if (parsed.isEmpty()) {
            return invalidSchema();
        }
        List<Integer> versions = versionsBySubject.get(subject);
        if (versions == null) {
            return subjectNotFound(subject);
        }
        Integer id = idByKey.get(parsed.get().key());
        if (id == null || !versions.contains(id)) {
            return new Reply(404, error(40403, "Schema not found"));
        }
        return new Reply(200, versionNode(subject, id, versions.indexOf(id) + 1));
    }

    private synchronized Reply latestRequest(String subject) {
        List<Integer> versions = versionsBySubject.get(subject);
        if (versions == null || versions.isEmpty()) {
            return subjectNotFound(subject);
        }
        return new Reply(200, versionNode(subject, versions.get(versions.size() - 1), versions.size()));
    }

    private synchronized Reply byIdRequest(String idText) {
        int id;
        try {
            id = Integer.parseInt(idText);
        } catch (NumberFormatException e) {
            return new Reply(404, error(404, "HTTP 404 Not Found"));
        }
        Stored stored = schemaById.get(id);
        if (stored == null) {
            return new Reply(404, error(40403, "Schema " + id + " not found"));
        }
        return new Reply(200, withType(JSON.createObjectNode(), stored).put("schema", stored.text));
    }

    private ObjectNode versionNode(String subject, int id, int version) {
        Stored stored = schemaById.get(id);
        ObjectNode node = JSON.createObjectNode()
                .put("subject", subject)
                .put("id", id)
                .put("version", version);
        return withType(node, stored).put("schema", stored.text);
    }

    /** Like the real registry, {@code schemaType} is left out for Avro, the default. */
    private static ObjectNode withType(ObjectNode node, Stored stored) {
        return stored.type.equals("AVRO") ? node : node.put("schemaType", stored.type);
    }

    private int store(String subject, Stored stored) {
        Integer id = idByKey.get(stored.key());
        if (id == null) {
            id = nextId++;
            idByKey.put(stored.key(), id);
            schemaById.put(id, stored);
        }
        List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(id)) {
            versions.add(id);
        }
        return id;
    }

    /**
     * A registered schema. Avro schemas are parsed, and an identical Avro schema (by {@link Schema#equals}) keeps
     * its id; other types are kept as text and matched by text.
     */
    private record Stored(String type, String text, Schema avro) {
        Object key() {
            return avro != null ? avro : type + ":" + text;
        }
    }

    private static Optional<Stored> parseSchemaBody(byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            JsonNode schemaNode = node == null ? null : node.get("schema");
            if (schemaNode == null || !schemaNode.isTextual()) {
                return Optional.empty();
            }
            String text = schemaNode.asText();
            String type = node.path("schemaType").asText("AVRO");
            if (!type.equals("AVRO")) {
                return Optional.of(new Stored(type, text, null));
            }
            return Optional.of(new Stored(type, text, new Schema.Parser().parse(text)));
        } catch (IOException | RuntimeException e) {
            // Not JSON, or not Avro: SchemaParseException, and other runtime exceptions for bad defaults.
            return Optional.empty();
        }
    }

    private static Reply invalidSchema() {
        return new Reply(422, error(42201, "Invalid schema"));
    }

    private static Reply subjectNotFound(String subject) {
        return new Reply(404, error(40401, "Subject '" + subject + "' not found."));
    }

    private static ObjectNode error(int code, String message) {
        return JSON.createObjectNode().put("error_code", code).put("message", message);
    }

    private static void reply(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
