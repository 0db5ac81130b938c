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
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.apache.avro.Schema;

/**
 * Talks to a Confluent-compatible Schema Registry over its REST API (v1 content type), trying each
 * configured URL in turn as Confluent's client does. Errors carry the registry's {@code error_code}
 * and message. TLS uses the JDK: the default trust store, or the {@code schema.registry.ssl.*}
 * stores when configured (see {@link SerdeConfig#sslContext()}).
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {

    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> baseUrls;
    private final Optional<String> authorization;
    private final HttpClient http;
    private final Duration requestTimeout;

    public RestSchemaRegistryClient(List<URI> baseUrls, Optional<String> basicUserInfo,
                                    SSLContext sslContext, Duration requestTimeout) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("schema.registry.url names no URL");
        }
        this.baseUrls = List.copyOf(baseUrls);
        this.authorization = basicUserInfo.map(userInfo ->
                "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8)));
        this.requestTimeout = requestTimeout;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(requestTimeout);
        if (sslContext != null) {
            builder.sslContext(sslContext);
        }
        this.http = builder.build();
    }

    @Override
    public int register(String subject, Schema schema) {
        JsonNode body = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
        return body.path("id").asInt();
    }

    @Override
    public int idOf(String subject, Schema schema) {
        JsonNode body = send("POST", "/subjects/" + encode(subject), schemaBody(schema));
        return body.path("id").asInt();
    }

    @Override
    public RegisteredSchema latest(String subject) {
        JsonNode body = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        return new RegisteredSchema(body.path("id").asInt(), body.path("version").asInt(),
                new Schema.Parser().parse(body.path("schema").asText()));
    }

    @Override
    public Schema byId(int id) {
        JsonNode body = send("GET", "/schemas/ids/" + id, null);
        return new Schema.Parser().parse(body.path("schema").asText());
    }

    private static String schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, String path, String body) {
        SchemaRegistryException lastUnreachable = null;
        for (URI base : baseUrls) {
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
                // Like Confluent's client: an unreachable URL is skipped, a refusal is final.
                lastUnreachable = new SchemaRegistryException(
                        "Schema Registry at " + base + " could not be reached: " + e, e);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("Interrupted while calling the Schema Registry at " + base, e);
            }
            return parse(method, base, path, response);
        }
        throw lastUnreachable;
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
