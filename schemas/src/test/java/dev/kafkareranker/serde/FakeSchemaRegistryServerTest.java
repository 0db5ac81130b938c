package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Checks the test-only fake registry against the documented API with a bare HTTP client, so the other tests
 * can trust what it answers.
 */
class FakeSchemaRegistryServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private FakeSchemaRegistryServer fake;

    @BeforeEach
    void start() throws IOException {
        fake = FakeSchemaRegistryServer.start();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private HttpResponse<String> call(String method, String path, String body, String authorization)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(fake.url() + path))
                .timeout(Duration.ofSeconds(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
        return call(method, path, body, null);
    }

    private static String schemaBody(String schema) {
        return JSON.createObjectNode().put("schema", schema).toString();
    }

    private static JsonNode json(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body());
    }

    @Test
    void registerAnswersIdAndLookupAnswersSubjectIdVersionAndSchemaInV1ContentType() throws Exception {
        String schema = RetrievalCandidate.getClassSchema().toString();

        HttpResponse<String> registered = call("POST", "/subjects/candidates-value/versions", schemaBody(schema));
        assertEquals(200, registered.statusCode());
        assertEquals(FakeSchemaRegistryServer.CONTENT_TYPE, registered.headers().firstValue("Content-Type").orElseThrow());
        int id = json(registered).get("id").asInt();
        assertEquals(1, id);

        HttpResponse<String> lookedUp = call("POST", "/subjects/candidates-value", schemaBody(schema));
        assertEquals(200, lookedUp.statusCode());
        JsonNode lookup = json(lookedUp);
        assertEquals("candidates-value", lookup.get("subject").asText());
        assertEquals(id, lookup.get("id").asInt());
        assertEquals(1, lookup.get("version").asInt());
        assertEquals(schema, lookup.get("schema").asText());

        HttpResponse<String> byId = call("GET", "/schemas/ids/" + id, null);
        assertEquals(200, byId.statusCode());
        assertEquals(schema, json(byId).get("schema").asText());

        HttpResponse<String> latest = call("GET", "/subjects/candidates-value/versions/latest", null);
        assertEquals(200, latest.statusCode());
        assertEquals(id, json(latest).get("id").asInt());
        assertEquals(1, json(latest).get("version").asInt());
    }

    @Test
    void identicalSchemaKeepsItsGlobalIdAcrossSubjectsAndNewSchemasGetNewIds() throws Exception {
        String schema = RetrievalCandidate.getClassSchema().toString();
        int first = json(call("POST", "/subjects/a-value/versions", schemaBody(schema))).get("id").asInt();
        int again = json(call("POST", "/subjects/a-value/versions", schemaBody(schema))).get("id").asInt();
        int otherSubject = json(call("POST", "/subjects/b-value/versions", schemaBody(schema))).get("id").asInt();
        int v1 = json(call("POST", "/subjects/a-value/versions", schemaBody(TestRecords.candidateV1().toString())))
                .get("id").asInt();

        assertEquals(first, again);
        assertEquals(first, otherSubject);
        assertTrue(v1 != first, "a different schema must get a new id");
        JsonNode latest = json(call("GET", "/subjects/a-value/versions/latest", null));
        assertEquals(v1, latest.get("id").asInt());
        assertEquals(2, latest.get("version").asInt());
    }

    @Test
    void unknownSubjectSchemaAndIdAnswerDocumented404Errors() throws Exception {
        String schema = RetrievalCandidate.getClassSchema().toString();

        HttpResponse<String> noSubject = call("POST", "/subjects/nobody-value", schemaBody(schema));
        assertEquals(404, noSubject.statusCode());
        assertEquals(40401, json(noSubject).get("error_code").asInt());
        assertEquals("Subject 'nobody-value' not found.", json(noSubject).get("message").asText());

        call("POST", "/subjects/some-value/versions", schemaBody(TestRecords.candidateV1().toString()));
        HttpResponse<String> noSchema = call("POST", "/subjects/some-value", schemaBody(schema));
        assertEquals(404, noSchema.statusCode());
        assertEquals(40403, json(noSchema).get("error_code").asInt());
        assertEquals("Schema not found", json(noSchema).get("message").asText());

        HttpResponse<String> noId = call("GET", "/schemas/ids/999", null);
        assertEquals(404, noId.statusCode());
        assertEquals(40403, json(noId).get("error_code").asInt());

        HttpResponse<String> noLatest = call("GET", "/subjects/nobody-value/versions/latest", null);
        assertEquals(404, noLatest.statusCode());
        assertEquals(40401, json(noLatest).get("error_code").asInt());
        assertEquals(FakeSchemaRegistryServer.CONTENT_TYPE, noLatest.headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void bodyThatIsNotAnAvroSchemaIsRejectedWith42201() throws Exception {
        for (String body : new String[] {
                schemaBody("{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"nosuchtype\"}]}"),
                schemaBody("not json at all"),
                "{\"notschema\": 1}",
                "garbage"}) {
            HttpResponse<String> response = call("POST", "/subjects/bad-value/versions", body);
            assertEquals(422, response.statusCode(), body);
            assertEquals(42201, json(response).get("error_code").asInt(), body);
            assertEquals("Invalid schema", json(response).get("message").asText(), body);
        }
        assertEquals(404, call("GET", "/subjects/bad-value/versions/latest", null).statusCode(),
                "an invalid schema must not create the subject");
    }

    @Test
    void basicAuthRegistryRefusesMissingOrWrongCredentialsWith401() throws Exception {
        fake.close();
        fake = FakeSchemaRegistryServer.startWithBasicAuth("alice", "s3cret");
        String good = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        String bad = "Basic " + Base64.getEncoder().encodeToString("alice:wrong".getBytes(StandardCharsets.UTF_8));

        for (String authorization : new String[] {null, bad}) {
            HttpResponse<String> refused = call("GET", "/schemas/ids/1", null, authorization);
            assertEquals(401, refused.statusCode());
            assertEquals(401, json(refused).get("error_code").asInt());
            assertEquals("Unauthorized", json(refused).get("message").asText());
        }
        assertEquals(404, call("GET", "/schemas/ids/1", null, good).statusCode(), "good credentials reach the API");
    }

    @Test
    void countsRequestsPerMethodAndPath() throws Exception {
        call("GET", "/schemas/ids/1", null);
        call("GET", "/schemas/ids/1", null);
        call("GET", "/schemas/ids/2", null);
        assertEquals(2, fake.requests("GET", "/schemas/ids/1"));
        assertEquals(1, fake.requests("GET", "/schemas/ids/2"));
        assertEquals(0, fake.requests("POST", "/schemas/ids/1"));
        assertEquals(3, fake.totalRequests());
    }
}
