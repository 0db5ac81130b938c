package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RestSchemaRegistryClient} against the fake registry server: the REST calls and how errors surface. */
class RestSchemaRegistryClientTest {

    private FakeSchemaRegistryServer fake;
    private RestSchemaRegistryClient client;

    @BeforeEach
    void start() throws IOException {
        fake = FakeSchemaRegistryServer.start();
        client = new RestSchemaRegistryClient(List.of(URI.create(fake.url())), Optional.empty(), null,
                Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    @Test
    void registeredSchemaComesBackByIdUnchanged() {
        Schema schema = RetrievalCandidate.getClassSchema();
        int id = client.register("candidates-value", schema);

        assertEquals(1, id);
        assertEquals(schema, client.byId(id));
        assertEquals(1, fake.requests("POST", "/subjects/candidates-value/versions"));
        assertEquals(1, fake.requests("GET", "/schemas/ids/" + id));
    }

    @Test
    void schemasThatEmbedOtherRecordsRoundTripToo() {
        for (Schema schema : List.of(RankedResults.getClassSchema(), QueryState.getClassSchema())) {
            int id = client.register(schema.getFullName(), schema);
            assertEquals(schema, client.byId(id));
        }
    }

    @Test
    void idOfAnswersTheRegisteredId() {
        Schema schema = RetrievalCandidate.getClassSchema();
        int id = client.register("candidates-value", schema);
        assertEquals(id, client.idOf("candidates-value", schema));
        assertEquals(1, fake.requests("POST", "/subjects/candidates-value"));
    }

    @Test
    void lookupInUnknownSubjectThrows40401WithTheRegistrysMessage() {
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                () -> client.idOf("nobody-value", RetrievalCandidate.getClassSchema()));
        assertEquals(404, e.httpStatus());
        assertEquals(40401, e.errorCode());
        assertTrue(e.getMessage().contains("Subject 'nobody-value' not found."), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
    }

    @Test
    void lookupOfSchemaNotUnderSubjectThrows40403WithTheRegistrysMessage() {
        client.register("candidates-value", TestRecords.candidateV1());
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                () -> client.idOf("candidates-value", RetrievalCandidate.getClassSchema()));
        assertEquals(404, e.httpStatus());
        assertEquals(40403, e.errorCode());
        assertTrue(e.getMessage().endsWith("Schema not found"), e.getMessage());
    }

    @Test
    void unknownIdThrows40403() {
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.byId(4711));
        assertEquals(40403, e.errorCode());
        assertTrue(e.getMessage().contains("/schemas/ids/4711"), e.getMessage());
    }

    @Test
    void latestAnswersIdVersionAndSchemaOfTheNewestVersion() {
        int v1 = client.register("candidates-value", TestRecords.candidateV1());
        int v2 = client.register("candidates-value", RetrievalCandidate.getClassSchema());
        assertNotEquals(v1, v2);

        SchemaRegistryClient.RegisteredSchema latest = client.latest("candidates-value");
        assertEquals(v2, latest.id());
        assertEquals(2, latest.version());
        assertEquals(RetrievalCandidate.getClassSchema(), latest.schema());

        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.latest("nobody-value"));
        assertEquals(40401, e.errorCode());
    }

    @Test
    void sendsTheV1ContentTypeAndAcceptHeaders() {
        client.register("candidates-value", RetrievalCandidate.getClassSchema());
        client.byId(1);

        List<Map<String, List<String>>> headers = fake.requestHeaders();
        assertEquals(2, headers.size());
        assertEquals(List.of(FakeSchemaRegistryServer.CONTENT_TYPE), headers.get(0).get("Content-Type"));
        assertEquals(List.of(FakeSchemaRegistryServer.CONTENT_TYPE), headers.get(0).get("Accept"));
        assertEquals(List.of(FakeSchemaRegistryServer.CONTENT_TYPE), headers.get(1).get("Accept"));
        assertEquals(null, headers.get(0).get("Authorization"), "no credentials configured, none sent");
    }

    @Test
    void subjectIsPercentEncodedInThePath() {
        int id = client.register("my topic+x-value", RetrievalCandidate.getClassSchema());
        assertEquals(1, fake.requests("POST", "/subjects/my%20topic%2Bx-value/versions"));
        assertEquals(List.of("my topic+x-value"), fake.subjects());
        assertEquals(id, client.idOf("my topic+x-value", RetrievalCandidate.getClassSchema()));
    }

    @Test
    void baseUrlWithTrailingSlashIsJoinedWithoutDoubleSlash() {
        RestSchemaRegistryClient slash = new RestSchemaRegistryClient(List.of(URI.create(fake.url() + "/")),
                Optional.empty(), null, Duration.ofSeconds(5));
        slash.register("candidates-value", RetrievalCandidate.getClassSchema());
        assertEquals(1, fake.requests("POST", "/subjects/candidates-value/versions"));
    }

    @Test
    void noUrlIsAConfigurationError() {
        assertThrows(IllegalArgumentException.class,
                () -> new RestSchemaRegistryClient(List.of(), Optional.empty(), null, Duration.ofSeconds(1)));
    }
}
