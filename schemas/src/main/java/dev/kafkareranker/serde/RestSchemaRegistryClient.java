package dev.kafkareranker.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import javax.net.ssl.SSLContext;
import org.apache.avro.Schema;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Talks to a Confluent-compatible Schema Registry over its REST API (v1 content type), trying each
 * configured URL in turn as Confluent's client does. Errors carry the registry's {@code error_code}
 * and message. TLS uses the JDK: the default trust store, or the {@code schema.registry.ssl.*}
 * stores when configured (see {@link SerdeConfig#sslContext()}).
 *
 * <p>Transient failures (the registry unreachable, a timeout, HTTP 429 or 5xx) are retried with
 * exponential backoff and jitter, as {@link Retry} says; a simple {@code Retry-After} (whole seconds) is
 * honoured, capped at the longest wait. Any other answer (404 40401/40403, 401, 422, other 4xx) is final
 * at once: asking again cannot change it. When the retries are spent the last failure is thrown, with
 * {@link SchemaRegistryException#isTransient()} true, so the caller can fail the task instead of
 * dead-lettering a valid record.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {

    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> baseUrls;
    private final Optional<String> authorization;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final Retry retry;
    private final Sleeper sleeper;
    private final DoubleSupplier jitter;
    private final boolean normalize;
    /** GUIDs the registry named beside an id in an answer, so a writer of header ids need not ask again. */
    private final Map<Integer, UUID> guidsSeen = new ConcurrentHashMap<>();

    /**
     * How transient failures are retried: up to {@code maxRetries} more rounds over the URLs, the n-th
     * (from 0) after a wait drawn uniformly from [b/2, b] with b = min(maxWait, initialWait * 2^n). The
     * defaults ({@link #DEFAULT}: 3 retries, 200 ms doubling to at most 2 s) give up after about 1.4 s of
     * waiting, so a stream thread is held a few seconds, not until {@code max.poll.interval.ms} runs out.
     */
    public record Retry(int maxRetries, Duration initialWait, Duration maxWait) {

        public static final Retry DEFAULT = new Retry(3, Duration.ofMillis(200), Duration.ofSeconds(2));

        /** No retries at all: the first transient failure is thrown. */
        public static final Retry NONE = new Retry(0, Duration.ZERO, Duration.ZERO);

        public Retry {
            if (maxRetries < 0) {
                throw new IllegalArgumentException("max.retries < 0: " + maxRetries);
            }
            if (initialWait.isNegative() || maxWait.isNegative()) {
                throw new IllegalArgumentException("negative retry wait: " + initialWait + ", " + maxWait);
            }
        }

        /** The wait before retry {@code attempt} (0-based); {@code jitter} draws from [0, 1). */
        Duration backoff(int attempt, Duration retryAfter, DoubleSupplier jitter) {
            long max = maxWait.toMillis();
            if (retryAfter != null) {
                // The server knows best when it will be back, but a stream thread must not wait longer than configured.
                return Duration.ofMillis(Math.min(max, retryAfter.toMillis()));
            }
            long base = Math.min(max, initialWait.toMillis() << Math.min(attempt, 30));
            // "Equal jitter": half fixed so waits still grow, half random so clients restarted together spread out.
            return Duration.ofMillis(base / 2 + (long) (jitter.getAsDouble() * (base - base / 2 + 1)));
        }
    }

    /** Waits between retries; tests pass one that records instead of sleeping. */
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    /** With the default retries ({@link Retry#DEFAULT}). */
    public RestSchemaRegistryClient(List<URI> baseUrls, Optional<String> basicUserInfo,
                                    SSLContext sslContext, Duration requestTimeout) {
        this(baseUrls, basicUserInfo, sslContext, requestTimeout, Retry.DEFAULT);
    }

    public RestSchemaRegistryClient(List<URI> baseUrls, Optional<String> basicUserInfo,
                                    SSLContext sslContext, Duration requestTimeout, Retry retry) {
        this(baseUrls, basicUserInfo.map(RestSchemaRegistryClient::basic), sslContext, requestTimeout, retry, false);
    }

    /**
     * @param authorization the whole {@code Authorization} header value (basic or bearer), if any
     * @param normalize     ask the registry to normalize schemas on register and lookup ({@code normalize.schemas})
     */
    RestSchemaRegistryClient(List<URI> baseUrls, Optional<String> authorization, SSLContext sslContext,
                             Duration requestTimeout, Retry retry, boolean normalize) {
        this(baseUrls, authorization, sslContext, requestTimeout, retry, normalize,
                duration -> Thread.sleep(duration.toMillis()), () -> ThreadLocalRandom.current().nextDouble());
    }

    RestSchemaRegistryClient(List<URI> baseUrls, Optional<String> basicUserInfo, SSLContext sslContext,
                             Duration requestTimeout, Retry retry, Sleeper sleeper, DoubleSupplier jitter) {
        this(baseUrls, basicUserInfo.map(RestSchemaRegistryClient::basic), sslContext, requestTimeout, retry, false,
                sleeper, jitter);
    }

    private RestSchemaRegistryClient(List<URI> baseUrls, Optional<String> authorization, SSLContext sslContext,
                                     Duration requestTimeout, Retry retry, boolean normalize, Sleeper sleeper,
                                     DoubleSupplier jitter) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("schema.registry.url names no URL");
        }
        this.baseUrls = List.copyOf(baseUrls);
        this.authorization = authorization;
        this.normalize = normalize;
        this.requestTimeout = requestTimeout;
        this.retry = retry;
        this.sleeper = sleeper;
        this.jitter = jitter;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(requestTimeout);
        if (sslContext != null) {
            builder.sslContext(sslContext);
        }
        this.http = builder.build();
    }

    private static String basic(String userInfo) {
        return "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int register(String subject, Schema schema) {
        JsonNode body = send("POST", "/subjects/" + encode(subject) + "/versions" + normalizeQuery(), schemaBody(schema));
        return seen(body);
    }

    private String normalizeQuery() {
        return normalize ? "?normalize=true" : "";
    }

    @Override
    public int idOf(String subject, Schema schema) {
        JsonNode body = send("POST", "/subjects/" + encode(subject) + normalizeQuery(), schemaBody(schema));
        return seen(body);
    }

    @Override
    public RegisteredSchema latest(String subject) {
        JsonNode body = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        int id = seen(body);
        return new RegisteredSchema(id, body.path("version").asInt(), avro("schema id " + id, body));
    }

    @Override
    public Schema byId(int id) {
        JsonNode body = send("GET", "/schemas/ids/" + id, null);
        remember(id, body);
        return avro("schema id " + id, body);
    }

    @Override
    public Schema byGuid(UUID guid) {
        return avro("schema guid " + guid, send("GET", "/schemas/guids/" + guid, null));
    }

    @Override
    public UUID guidOf(int id) {
        UUID known = guidsSeen.get(id);
        if (known != null) {
            return known;
        }
        remember(id, send("GET", "/schemas/ids/" + id, null));
        known = guidsSeen.get(id);
        if (known == null) {
            // Final: this registry does not give GUIDs, and asking again will not change that.
            throw new SerializationException("The Schema Registry at " + baseUrls + " gave no GUID for schema id " + id
                    + " (Confluent Schema Registry 8.0 and later do; Apicurio Registry 3.3 does not); a schema id in a record"
                    + " header needs one: set value.schema.id.serializer (or key.schema.id.serializer) to"
                    + " PrefixSchemaIdSerializer, or use a registry that serves GUIDs");
        }
        return known;
    }

    /** The answer's id, with its GUID remembered when the registry gave one. */
    private int seen(JsonNode body) {
        int id = body.path("id").asInt();
        remember(id, body);
        return id;
    }

    private void remember(int id, JsonNode body) {
        String guid = body.path("guid").asText("");
        if (!guid.isEmpty()) {
            try {
                guidsSeen.putIfAbsent(id, UUID.fromString(guid));
            } catch (IllegalArgumentException e) {
                // A registry that answers a malformed GUID gives none usable; guidOf says so if one is needed.
            }
        }
    }

    /**
     * The Avro schema in a registry answer. A registry shared with Protobuf or JSON Schema producers answers
     * their ids too, marked by {@code schemaType}; parsing that text as Avro would fail with a misleading
     * message (for JSON Schema, "Unknown schema ...UnresolvedSchema_0"), so the type is checked first.
     * Either failure is final: the id will never name an Avro schema.
     */
    private static Schema avro(String what, JsonNode body) {
        String type = body.path("schemaType").asText("AVRO");
        if (!type.equalsIgnoreCase("AVRO")) {
            throw new SerializationException(what + " is a " + type + " schema, not Avro");
        }
        try {
            return new Schema.Parser().parse(body.path("schema").asText());
        } catch (RuntimeException e) {
            throw new SerializationException(what + " is not a valid Avro schema: " + e.getMessage(), e);
        }
    }

    private static String schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, String path, String body) {
        SchemaRegistryException last = null;
        for (int attempt = 0; ; attempt++) {
            Duration retryAfter = null;
            for (URI base : baseUrls) {
                Outcome outcome = once(method, base, path, body);
                if (outcome.json != null) {
                    return outcome.json;
                }
                last = outcome.failure;
                if (!last.isTransient()) {
                    throw last;
                }
                // Like Confluent's client, the next URL is tried at once; the wait comes between rounds.
                if (outcome.retryAfter != null) {
                    retryAfter = outcome.retryAfter;
                }
            }
            if (attempt >= retry.maxRetries()) {
                throw new SchemaRegistryException(last.getMessage() + " (transient; gave up after " + (attempt + 1)
                        + " attempts, see max.retries, retries.wait.ms, retries.max.wait.ms)",
                        last.httpStatus(), last.errorCode(), last.getCause());
            }
            Duration wait = retry.backoff(attempt, retryAfter, jitter);
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("Interrupted while waiting to retry the Schema Registry: "
                        + last.getMessage(), e);
            }
        }
    }

    /** One request to one URL: the answer's JSON, or the failure (with a server's Retry-After, if simple). */
    private Outcome once(String method, URI base, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(resolve(base, path))
                .timeout(requestTimeout)
                .header("Accept", CONTENT_TYPE)
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE);
        }
        authorization.ifPresent(value -> request.header("Authorization", value));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // Refused, reset, timed out (HttpTimeoutException is an IOException): all worth another try.
            return new Outcome(null, new SchemaRegistryException(
                    "Schema Registry at " + base + " could not be reached: " + e, e), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("Interrupted while calling the Schema Registry at " + base, e);
        }
        try {
            return new Outcome(parse(method, base, path, response), null, null);
        } catch (SchemaRegistryException e) {
            return new Outcome(null, e, retryAfter(response));
        }
    }

    private record Outcome(JsonNode json, SchemaRegistryException failure, Duration retryAfter) {}

    /** A Retry-After of whole seconds; the HTTP-date form is ignored (the backoff applies instead). */
    private static Duration retryAfter(HttpResponse<String> response) {
        Optional<String> header = response.headers().firstValue("Retry-After");
        if (header.isEmpty()) {
            return null;
        }
        try {
            long seconds = Long.parseLong(header.get().trim());
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static URI resolve(URI base, String path) {
        String text = base.toString();
        return URI.create((text.endsWith("/") ? text.substring(0, text.length() - 1) : text) + path);
    }

    private static JsonNode parse(String method, URI base, String path, HttpResponse<String> response) {
        JsonNode json;
        try {
            json = response.body() == null || response.body().isBlank()
                    ? JSON.createObjectNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            json = JSON.createObjectNode();
        }
        int status = response.statusCode();
        if (status / 100 == 2) {
            return json;
        }
        int errorCode = json.path("error_code").asInt(status);
        String message = json.path("message").asText(response.body());
        throw new SchemaRegistryException(
                "Schema Registry " + method + " " + base + path + " failed: HTTP " + status
                        + ", error_code " + errorCode + ": " + message,
                status, errorCode);
    }
}
