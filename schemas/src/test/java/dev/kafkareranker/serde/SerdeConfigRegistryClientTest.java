package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/**
 * The client {@link SerdeConfig} builds from Confluent's keys: basic auth from USER_INFO or the URL, several
 * URLs tried in order, and the config errors it reports. Runs against the fake registry server.
 */
class SerdeConfigRegistryClientTest {

    private static final Schema SCHEMA = RetrievalCandidate.getClassSchema();

    private static SchemaRegistryClient clientFor(Map<String, Object> props) {
        Map<String, Object> all = new HashMap<>(props);
        all.putIfAbsent(SerdeConfig.REQUEST_TIMEOUT_MS, 5_000);
        return new SerdeConfig(all).client();
    }

    /** A loopback port nobody listens on: bound once and released, so connecting to it is refused. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String basic(String userInfo) {
        return "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void basicAuthFromUserInfoReachesTheRegistry() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.startWithBasicAuth("alice", "s3cret:with-colon")) {
            SchemaRegistryClient client = clientFor(Map.of(
                    SerdeConfig.SCHEMA_REGISTRY_URL, fake.url(),
                    SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                    SerdeConfig.BASIC_AUTH_USER_INFO, "alice:s3cret:with-colon"));

            int id = client.register("candidates-value", SCHEMA);

            assertEquals(1, id);
            assertEquals(basic("alice:s3cret:with-colon"), fake.requestHeaders().get(0).get("Authorization").get(0));
        }
    }

    @Test
    void basicAuthFromTheUrlReachesTheRegistryWithoutPuttingCredentialsInTheRequestUrl() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.startWithBasicAuth("bob", "pa ss")) {
            SchemaRegistryClient client = clientFor(Map.of(
                    SerdeConfig.SCHEMA_REGISTRY_URL, "http://bob:pa%20ss@127.0.0.1:" + fake.port()));

            int id = client.register("candidates-value", SCHEMA);

            assertEquals(1, id);
            assertEquals(basic("bob:pa ss"), fake.requestHeaders().get(0).get("Authorization").get(0));
            assertEquals(1, fake.requests("POST", "/subjects/candidates-value/versions"));
        }
    }

    @Test
    void userInfoTakesPrecedenceOverTheUrlWhenThatIsTheConfiguredSource() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.startWithBasicAuth("alice", "right")) {
            SchemaRegistryClient client = clientFor(Map.of(
                    SerdeConfig.SCHEMA_REGISTRY_URL, "http://mallory:wrong@127.0.0.1:" + fake.port(),
                    SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                    SerdeConfig.BASIC_AUTH_USER_INFO, "alice:right"));
            assertEquals(1, client.register("candidates-value", SCHEMA));
        }
    }

    @Test
    void wrongCredentialsFailWith401NamingTheStatus() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.startWithBasicAuth("alice", "s3cret")) {
            for (Map<String, Object> props : List.<Map<String, Object>>of(
                    Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url(),
                            SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                            SerdeConfig.BASIC_AUTH_USER_INFO, "alice:wrong"),
                    Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "http://alice:wrong@127.0.0.1:" + fake.port()),
                    Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url()))) {
                SchemaRegistryClient client = clientFor(props);
                SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                        () -> client.register("candidates-value", SCHEMA));
                assertEquals(401, e.httpStatus());
                assertEquals(401, e.errorCode());
                assertTrue(e.getMessage().contains("HTTP 401"), e.getMessage());
                assertTrue(e.getMessage().contains("Unauthorized"), e.getMessage());
                assertFalse(e.getMessage().contains("wrong"), "the password must not leak into errors: " + e.getMessage());
            }
            assertTrue(fake.subjects().isEmpty());
        }
    }

    @Test
    void userInfoSourceWithoutUserInfoIsAConfigError() {
        ConfigException missing = assertThrows(ConfigException.class, () -> clientFor(Map.of(
                SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:1",
                SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO")));
        assertTrue(missing.getMessage().contains(SerdeConfig.BASIC_AUTH_USER_INFO), missing.getMessage());

        ConfigException noColon = assertThrows(ConfigException.class, () -> clientFor(Map.of(
                SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:1",
                SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                SerdeConfig.BASIC_AUTH_USER_INFO, "justauser")));
        assertFalse(noColon.getMessage().contains("justauser"), "user info is a secret: " + noColon.getMessage());
    }

    @Test
    void unknownCredentialsSourceAndMissingUrlAreConfigErrors() {
        assertThrows(ConfigException.class, () -> clientFor(Map.of(
                SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:1",
                SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "SASL_INHERIT")));
        assertThrows(ConfigException.class, () -> clientFor(Map.of()));
        assertThrows(ConfigException.class, () -> clientFor(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "")));
    }

    @Test
    void unreachableFirstUrlFallsThroughToTheSecond() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            SchemaRegistryClient client = clientFor(Map.of(
                    SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + closedPort() + "," + fake.url()));

            int id = client.register("candidates-value", SCHEMA);

            assertEquals(1, id);
            assertEquals(1, fake.requests("POST", "/subjects/candidates-value/versions"));
        }
    }

    @Test
    void urlsGivenAsAListAreTriedInOrderToo() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            SchemaRegistryClient client = clientFor(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL,
                    List.of("http://127.0.0.1:" + closedPort(), fake.url())));
            assertEquals(1, client.register("candidates-value", SCHEMA));
        }
    }

    @Test
    void refusalByTheFirstUrlIsFinalAndTheSecondIsNotAsked() throws IOException {
        try (FakeSchemaRegistryServer locked = FakeSchemaRegistryServer.startWithBasicAuth("alice", "s3cret");
             FakeSchemaRegistryServer open = FakeSchemaRegistryServer.start()) {
            SchemaRegistryClient client = clientFor(Map.of(
                    SerdeConfig.SCHEMA_REGISTRY_URL, locked.url() + "," + open.url()));

            SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                    () -> client.register("candidates-value", SCHEMA));

            assertEquals(401, e.httpStatus());
            assertEquals(1, locked.totalRequests());
            assertEquals(0, open.totalRequests());
        }
    }

    @Test
    void noReachableUrlFailsNamingTheLastOneTried() throws IOException {
        int first = closedPort();
        int second = closedPort();
        SchemaRegistryClient client = clientFor(Map.of(
                SerdeConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:" + first + ",http://127.0.0.1:" + second));

        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.byId(1));

        assertEquals(-1, e.httpStatus());
        assertEquals(-1, e.errorCode());
        assertTrue(e.getMessage().contains("could not be reached"), e.getMessage());
        assertTrue(e.getMessage().contains("127.0.0.1:" + second), e.getMessage());
        assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
    }

    @Test
    void mockUrlsShareOneRegistryPerScope() {
        String scope = "config-" + UUID.randomUUID();
        try {
            SchemaRegistryClient first = clientFor(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + scope));
            SchemaRegistryClient second = clientFor(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + scope));
            int id = first.register("candidates-value", SCHEMA);
            assertEquals(SCHEMA, second.byId(id));
            assertEquals(id, second.idOf("candidates-value", SCHEMA));
            assertSame(MockSchemaRegistry.forScope(scope), MockSchemaRegistry.forScope(scope));
        } finally {
            MockSchemaRegistry.drop(scope);
        }
        SchemaRegistryClient fresh = clientFor(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + scope));
        try {
            assertThrows(SchemaRegistryException.class, () -> fresh.byId(1), "drop must forget the scope");
        } finally {
            MockSchemaRegistry.drop(scope);
        }
    }

    @Test
    void subjectNameStrategyAcceptsShortAndConfluentClassNames() {
        for (String name : new String[] {"TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy"}) {
            SubjectNameStrategy expected = SubjectNameStrategy.valueOf(name);
            SerdeConfig shortName = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x",
                    SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, name, SerdeConfig.KEY_SUBJECT_NAME_STRATEGY, name));
            SerdeConfig confluent = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x",
                    SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "io.confluent.kafka.serializers.subject." + name,
                    SerdeConfig.KEY_SUBJECT_NAME_STRATEGY, "io.confluent.kafka.serializers.subject." + name));
            assertEquals(expected, shortName.subjectNameStrategy(false));
            assertEquals(expected, shortName.subjectNameStrategy(true));
            assertEquals(expected, confluent.subjectNameStrategy(false));
            assertEquals(expected, confluent.subjectNameStrategy(true));
        }
        SerdeConfig defaults = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x"));
        assertEquals(SubjectNameStrategy.TopicNameStrategy, defaults.subjectNameStrategy(false));

        SerdeConfig unknown = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x",
                SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "com.example.MyStrategy"));
        ConfigException e = assertThrows(ConfigException.class, () -> unknown.subjectNameStrategy(false));
        assertTrue(e.getMessage().contains("com.example.MyStrategy"), e.getMessage());
    }

    @Test
    void confluentDefaultsApply() {
        SerdeConfig config = new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x", "unrelated.key", "kept out"));
        assertTrue(config.autoRegister());
        assertFalse(config.useLatestVersion());
        assertFalse(config.specificReader());
        assertEquals(null, config.sslContext(), "no TLS stores configured, the JDK defaults apply");
    }
}
