package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transient registry failures (refused connections, timeouts, 429, 5xx) are retried with bounded backoff and
 * end, once the retries are spent, in a {@link SchemaRegistryException} that says it is transient; final
 * answers (404, other 4xx) are not retried. Real HTTP against the fake registry with injected faults; the
 * waits are recorded instead of slept, so the test checks their sizes without timing anything.
 */
class RegistryRetryTest {

    private static final Schema SCHEMA = RetrievalCandidate.getClassSchema();
    private static final RestSchemaRegistryClient.Retry RETRY =
            new RestSchemaRegistryClient.Retry(3, Duration.ofMillis(200), Duration.ofSeconds(2));

    private FakeSchemaRegistryServer fake;
    private final List<Duration> waits = new ArrayList<>();
    private Runnable onFirstWait = () -> { };

    @BeforeEach
    void start() throws IOException {
        fake = FakeSchemaRegistryServer.start();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private RestSchemaRegistryClient client(String... urls) {
        return client(Duration.ofSeconds(10), urls);
    }

    private RestSchemaRegistryClient client(Duration requestTimeout, String... urls) {
        List<URI> bases = new ArrayList<>();
        for (String url : urls.length == 0 ? new String[] {fake.url()} : urls) {
            bases.add(URI.create(url));
        }
        return new RestSchemaRegistryClient(bases, Optional.empty(), null, requestTimeout, RETRY, duration -> {
            waits.add(duration);
            if (waits.size() == 1) {
                onFirstWait.run();
            }
        }, Math::random);
    }

    /** A URL where nothing listens: the port of a socket that was just closed. */
    private static String refusingUrl() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }
    }

    private void assertBackoffGrowsWithinBounds(int expectedWaits) {
        assertEquals(expectedWaits, waits.size(), waits.toString());
        for (int i = 0; i < waits.size(); i++) {
            long base = Math.min(2000, 200L << i);
            long millis = waits.get(i).toMillis();
            // Equal jitter: each wait lies in [base/2, base].
            assertTrue(millis >= base / 2 && millis <= base, "wait " + i + " = " + millis + " ms, expected in ["
                    + base / 2 + ", " + base + "]");
        }
    }

    @Test
    void serviceUnavailableTwiceThenAnswersAfterTwoBackoffs() {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        fake.failNext(2, 503, null);

        assertEquals(SCHEMA, client().byId(id));
        assertEquals(3, fake.requests("GET", "/schemas/ids/" + id));
        assertBackoffGrowsWithinBounds(2);
    }

    @Test
    void tooManyRequestsWaitsForASimpleRetryAfterCappedAtTheLongestWait() {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        fake.failNext(1, 429, "1");
        fake.failNext(1, 429, "3600");
        fake.failNext(1, 429, "Wed, 21 Oct 2015 07:28:00 GMT");

        assertEquals(SCHEMA, client().byId(id));
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), waits.subList(0, 2),
                "Retry-After 1 s honoured, 3600 s capped at retries.max.wait.ms");
        long third = waits.get(2).toMillis();
        assertTrue(third >= 400 && third <= 800, "an HTTP-date Retry-After falls back to the backoff: " + third);
    }

    @Test
    void serverErrorsUntilTheRetriesAreSpentEndTransient() {
        fake.failNext(10, 503, null);

        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client().byId(1));
        assertTrue(e.isTransient());
        assertEquals(503, e.httpStatus());
        assertEquals(50301, e.errorCode());
        assertTrue(e.getMessage().contains("gave up after 4 attempts"), e.getMessage());
        assertTrue(e.getMessage().contains("max.retries"), e.getMessage());
        assertEquals(4, fake.requests("GET", "/schemas/ids/1"), "one try and max.retries=3 retries");
        assertBackoffGrowsWithinBounds(3);
    }

    @Test
    void anUnreachableRegistryEndsTransientWithStatusMinusOne() throws IOException {
        String refusing = refusingUrl();
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client(refusing).byId(1));
        assertTrue(e.isTransient());
        assertEquals(-1, e.httpStatus());
        assertTrue(e.getMessage().contains("could not be reached"), e.getMessage());
        assertInstanceOf(IOException.class, e.getCause());
        assertBackoffGrowsWithinBounds(3);
    }

    @Test
    void aRegistryThatComesBackDuringTheBackoffIsUsed() throws IOException {
        String refusing = refusingUrl();
        int port = URI.create(refusing).getPort();
        FakeSchemaRegistryServer[] back = new FakeSchemaRegistryServer[1];
        onFirstWait = () -> {
            try {
                back[0] = FakeSchemaRegistryServer.startOnPort(port);
                back[0].registerDirectly("candidates-value", SCHEMA.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        try {
            assertEquals(SCHEMA, client(refusing).byId(1));
            assertEquals(1, waits.size());
            assertEquals(1, back[0].requests("GET", "/schemas/ids/1"));
        } finally {
            if (back[0] != null) {
                back[0].close();
            }
        }
    }

    @Test
    void aStagedOutageIsRefusedThen503ThenBackWithTheSameSchemas() throws IOException {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        RestSchemaRegistryClient once = new RestSchemaRegistryClient(List.of(URI.create(fake.url())), Optional.empty(), null,
                Duration.ofSeconds(10), RestSchemaRegistryClient.Retry.NONE);
        // A few requests first, so the port has had connections when it is bound again.
        assertEquals(SCHEMA, once.byId(id));

        fake.refuseConnections();
        SchemaRegistryException refused = assertThrows(SchemaRegistryException.class, () -> once.byId(id));
        assertEquals(-1, refused.httpStatus());

        fake.acceptConnections();
        fake.answerAllWith(503);
        for (int i = 0; i < 3; i++) {
            SchemaRegistryException unavailable = assertThrows(SchemaRegistryException.class, () -> once.byId(id));
            assertEquals(503, unavailable.httpStatus());
            assertTrue(unavailable.isTransient());
        }

        fake.answerNormally();
        assertEquals(SCHEMA, once.byId(id), "the schemas registered before the outage are still there");
    }

    @Test
    void aSlowAnswerTimesOutAndTheRetryGetsTheAnswer() {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        // Far beyond the request timeout, so that the first try times out however loaded the machine is.
        fake.delayNext(1, Duration.ofSeconds(30));

        assertEquals(SCHEMA, client(Duration.ofSeconds(2)).byId(id));
        assertEquals(2, fake.requests("GET", "/schemas/ids/" + id));
        assertEquals(1, waits.size());
    }

    @Test
    void anUnreachableFirstUrlFailsOverToTheNextWithoutWaiting() throws IOException {
        int id = fake.registerDirectly("candidates-value", SCHEMA.toString());
        assertEquals(SCHEMA, client(refusingUrl(), fake.url()).byId(id));
        assertEquals(List.of(), waits);
    }

    @Test
    void unknownIdAndSubjectAreFinalAtOnce() {
        RestSchemaRegistryClient client = client();
        SchemaRegistryException unknownId = assertThrows(SchemaRegistryException.class, () -> client.byId(4711));
        assertEquals(40403, unknownId.errorCode());
        assertFalse(unknownId.isTransient());
        SchemaRegistryException unknownSubject = assertThrows(SchemaRegistryException.class,
                () -> client.idOf("nobody-value", SCHEMA));
        assertEquals(40401, unknownSubject.errorCode());
        assertFalse(unknownSubject.isTransient());
        assertEquals(1, fake.requests("GET", "/schemas/ids/4711"));
        assertEquals(1, fake.requests("POST", "/subjects/nobody-value"));
        assertEquals(List.of(), waits);
    }

    @Test
    void otherClientErrorsAreFinalAtOnce() {
        for (int status : new int[] {400, 401, 403, 409, 422}) {
            fake.failNext(1, status, "1");
            SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client().byId(1));
            assertEquals(status, e.httpStatus());
            assertFalse(e.isTransient(), "HTTP " + status);
        }
        assertEquals(5, fake.requests("GET", "/schemas/ids/1"));
        assertEquals(List.of(), waits);
    }

    @Test
    void transientRuleIsUnreachable429Or5xx() {
        for (int status : new int[] {-1, 429, 500, 502, 503, 504}) {
            assertTrue(SchemaRegistryException.isTransientStatus(status), "HTTP " + status);
        }
        for (int status : new int[] {200, 400, 401, 403, 404, 408, 409, 422}) {
            assertFalse(SchemaRegistryException.isTransientStatus(status), "HTTP " + status);
        }
    }

    @Test
    void theDeserializerKeepsATransientFailureInItsCauseChain() throws IOException {
        int id;
        byte[] bytes;
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.HTTP)) {
            SpecificAvroSerde<RetrievalCandidate> serde = SpecificAvroSerdeTest.serde(registry.url());
            bytes = serde.serializer().serialize("candidates", TestRecords.fullCandidate());
            id = WireFormat.schemaId("candidates", bytes);
        }
        AvroDeserializer<Object> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, refusingUrl(),
                SerdeConfig.SPECIFIC_AVRO_READER, true, SerdeConfig.RETRIES_WAIT_MS, 1, SerdeConfig.RETRIES_MAX_WAIT_MS, 2), false);

        SerializationException e = assertThrows(SerializationException.class,
                () -> deserializer.deserialize("candidates", bytes));
        assertTrue(SchemaRegistryException.isTransientFailure(e), e.toString());
        SchemaRegistryException cause = assertInstanceOf(SchemaRegistryException.class, e.getCause());
        assertEquals(-1, cause.httpStatus());
        assertTrue(e.getMessage().contains("schema id " + id), e.getMessage());
        assertTrue(e.getMessage().contains("transient"), e.getMessage());

        SerializationException unknown = assertThrows(SerializationException.class,
                () -> deserializerFor(fake.url()).deserialize("candidates", bytes));
        assertFalse(SchemaRegistryException.isTransientFailure(unknown), unknown.toString());
    }

    private static AvroDeserializer<Object> deserializerFor(String url) {
        AvroDeserializer<Object> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url, SerdeConfig.SPECIFIC_AVRO_READER, true), false);
        return deserializer;
    }
}
