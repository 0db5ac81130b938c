package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The caching client in front of the REST client: the fake registry's counters show what reached the server. */
class CachingSchemaRegistryClientTest {

    private static final Schema SCHEMA = RetrievalCandidate.getClassSchema();

    private FakeSchemaRegistryServer fake;

    @BeforeEach
    void start() throws IOException {
        fake = FakeSchemaRegistryServer.start();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    /** A clock tests move by hand. */
    private static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2024-01-01T00:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private RestSchemaRegistryClient rest() {
        return new RestSchemaRegistryClient(List.of(URI.create(fake.url())), Optional.empty(), null, Duration.ofSeconds(5));
    }

    private SchemaRegistryClient configured() {
        return new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url())).client();
    }

    @Test
    void repeatedRegisterAsksTheServerOnce() {
        SchemaRegistryClient client = configured();
        int first = client.register("candidates-value", SCHEMA);
        for (int i = 0; i < 5; i++) {
            assertEquals(first, client.register("candidates-value", SCHEMA));
        }
        assertEquals(1, fake.requests("POST", "/subjects/candidates-value/versions"));
    }

    @Test
    void registeringUnderAnotherSubjectIsAnotherRequest() {
        SchemaRegistryClient client = configured();
        int a = client.register("a-value", SCHEMA);
        int b = client.register("b-value", SCHEMA);
        client.register("a-value", SCHEMA);
        client.register("b-value", SCHEMA);
        assertEquals(a, b);
        assertEquals(1, fake.requests("POST", "/subjects/a-value/versions"));
        assertEquals(1, fake.requests("POST", "/subjects/b-value/versions"));
    }

    @Test
    void repeatedByIdAsksTheServerOnce() {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        SchemaRegistryClient client = configured();
        for (int i = 0; i < 5; i++) {
            assertEquals(SCHEMA, client.byId(id));
        }
        assertEquals(1, fake.requests("GET", "/schemas/ids/" + id));
        assertEquals(1, fake.totalRequests());
    }

    @Test
    void schemaJustRegisteredIsKnownByIdWithoutAnotherRequest() {
        SchemaRegistryClient client = configured();
        int id = client.register("candidates-value", SCHEMA);
        assertEquals(SCHEMA, client.byId(id));
        assertEquals(0, fake.requests("GET", "/schemas/ids/" + id));
    }

    @Test
    void repeatedLookupAsksTheServerOnce() {
        fake.registerDirectly("candidates-value", SCHEMA.toString());
        SchemaRegistryClient client = configured();
        int id = client.idOf("candidates-value", SCHEMA);
        assertEquals(id, client.idOf("candidates-value", SCHEMA));
        assertEquals(id, client.idOf("candidates-value", SCHEMA));
        assertEquals(1, fake.requests("POST", "/subjects/candidates-value"));
        assertEquals(SCHEMA, client.byId(id));
        assertEquals(0, fake.requests("GET", "/schemas/ids/" + id));
    }

    @Test
    void failuresAreNotCached() {
        SchemaRegistryClient client = configured();
        assertThrows(SchemaRegistryException.class, () -> client.byId(1));
        assertThrows(SchemaRegistryException.class, () -> client.idOf("candidates-value", SCHEMA));

        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());

        assertEquals(SCHEMA, client.byId(id));
        assertEquals(id, client.idOf("candidates-value", SCHEMA));
        assertEquals(2, fake.requests("GET", "/schemas/ids/1"));
        assertEquals(2, fake.requests("POST", "/subjects/candidates-value"));
    }

    @Test
    void aTransientOutageIsNotCachedEither() {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        SchemaRegistryClient client = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url(),
                SerdeConfig.MAX_RETRIES, 0)).client();
        fake.answerAllWith(503);
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.byId(id));
        assertTrue(e.isTransient());
        assertThrows(SchemaRegistryException.class, () -> client.register("candidates-value", SCHEMA));

        fake.answerNormally();
        assertEquals(SCHEMA, client.byId(id));
        assertEquals(id, client.register("candidates-value", SCHEMA));
        assertEquals(SCHEMA, client.byId(id));
        assertEquals(2, fake.requests("GET", "/schemas/ids/" + id), "one failed, one answered, then cached");
    }

    @Test
    void latestIsCachedForItsTtlAndThenFetchedAgain() {
        ManualClock clock = new ManualClock();
        CachingSchemaRegistryClient client = new CachingSchemaRegistryClient(rest(), Duration.ofSeconds(60), clock);
        int v1 = fake.registerDirectly("candidates-value", TestRecords.candidateV1().toString());

        assertEquals(v1, client.latest("candidates-value").id());
        int v2 = fake.registerDirectly("candidates-value", SCHEMA.toString());
        clock.advance(Duration.ofSeconds(59));
        assertEquals(v1, client.latest("candidates-value").id(), "still within the TTL");
        assertEquals(1, fake.requests("GET", "/subjects/candidates-value/versions/latest"));

        clock.advance(Duration.ofSeconds(1));
        SchemaRegistryClient.RegisteredSchema latest = client.latest("candidates-value");
        assertEquals(v2, latest.id());
        assertEquals(2, latest.version());
        assertEquals(2, fake.requests("GET", "/subjects/candidates-value/versions/latest"));

        assertEquals(SCHEMA, client.byId(v2));
        assertEquals(0, fake.requests("GET", "/schemas/ids/" + v2), "latest also fills the id cache");
    }

    @Test
    void latestCacheTtlZeroAlwaysAsks() {
        fake.registerDirectly("results-value", RankedResults.getClassSchema().toString());
        SchemaRegistryClient client = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url(),
                SerdeConfig.LATEST_CACHE_TTL_SEC, 0)).client();
        client.latest("results-value");
        client.latest("results-value");
        assertEquals(2, fake.requests("GET", "/subjects/results-value/versions/latest"));
    }

    @Test
    void defaultLatestCacheKeepsTheAnswer() {
        fake.registerDirectly("results-value", RankedResults.getClassSchema().toString());
        SchemaRegistryClient client = configured();
        client.latest("results-value");
        client.latest("results-value");
        client.latest("results-value");
        assertEquals(1, fake.requests("GET", "/subjects/results-value/versions/latest"));
    }
}
