package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Confluent 8.0's schema ids in a record header: {@code __value_schema_id} (or {@code __key_schema_id}) holds
 * magic byte 1 and the schema's 16-byte GUID, the payload is bare Avro, and the reader looks at the header
 * first, then at the payload prefix (Confluent's DualSchemaIdDeserializer). The header bytes here are built by
 * hand from the registry's own answer (its {@code guid} field), not by the serializer under test.
 */
class HeaderSchemaIdTest {

    private static final String TOPIC = "candidates";
    private static final String SUBJECT = TOPIC + "-value";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Map<String, Object> settings(String url, String... more) {
        Map<String, Object> props = new HashMap<>(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url,
                SerdeConfig.SPECIFIC_AVRO_VALUE_TYPE, RetrievalCandidate.class,
                SerdeConfig.SPECIFIC_AVRO_KEY_TYPE, RetrievalCandidate.class,
                SerdeConfig.REQUEST_TIMEOUT_MS, 5_000, SerdeConfig.MAX_RETRIES, 0));
        for (int i = 0; i < more.length; i += 2) {
            props.put(more[i], more[i + 1]);
        }
        return props;
    }

    private static AvroDeserializer<RetrievalCandidate> deserializer(String url, boolean isKey, String... more) {
        AvroDeserializer<RetrievalCandidate> deserializer = new AvroDeserializer<>();
        deserializer.configure(settings(url, more), isKey);
        return deserializer;
    }

    private static AvroSerializer<RetrievalCandidate> serializer(String url, boolean isKey, String... more) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(settings(url, more), isKey);
        return serializer;
    }

    /** The candidate's plain Avro binary encoding, without any prefix: what a header-id record carries. */
    private static byte[] bareAvro(RetrievalCandidate candidate) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        new SpecificDatumWriter<>(RetrievalCandidate.class).write(candidate, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** Magic byte 1 and the GUID's 16 bytes, most significant first, as Confluent's SchemaId.guidToBytes writes. */
    private static byte[] guidHeader(UUID guid) {
        return ByteBuffer.allocate(17).put((byte) 1).putLong(guid.getMostSignificantBits())
                .putLong(guid.getLeastSignificantBits()).array();
    }

    /** Registers the contract as another producer would, over HTTP, and returns the registry's answer. */
    private static JsonNode register(FakeSchemaRegistryServer server) throws Exception {
        String body = JSON.createObjectNode().put("schema", TestRecords.avscText("RetrievalCandidate")).toString();
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.url() + "/subjects/" + SUBJECT + "/versions"))
                .header("Content-Type", SchemaRegistryService.CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    @Test
    void aGuidHeaderBuiltFromTheRegistrysAnswerReadsAsTheCandidate() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            JsonNode registered = register(server);
            UUID guid = UUID.fromString(registered.get("guid").asText());
            Headers headers = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(guid));
            RetrievalCandidate candidate = TestRecords.fullCandidate();

            RetrievalCandidate read = deserializer(server.url(), false).deserialize(TOPIC, headers, bareAvro(candidate));

            assertEquals(candidate, read);
            assertEquals(1, server.requests("GET", "/schemas/guids/" + guid), "the schema was fetched by its GUID");
        }
    }

    @Test
    void headerAndPrefixFormsOfTheSameCandidateReadAlikeAndTheGuidIsFetchedOnce() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            byte[] prefixed = serializer(server.url(), false).serialize(TOPIC, candidate);
            Headers headers = new RecordHeaders();
            byte[] bare = serializer(server.url(), false, SerdeConfig.VALUE_SCHEMA_ID_SERIALIZER,
                    "io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer").serialize(TOPIC, headers, candidate);

            int id = WireFormat.schemaId(TOPIC, prefixed);
            assertArrayEquals(Arrays.copyOfRange(prefixed, WireFormat.HEADER_SIZE, prefixed.length), bare, "the payload is bare Avro");
            assertArrayEquals(guidHeader(server.guidOf(id)), headers.lastHeader(WireFormat.VALUE_SCHEMA_ID_HEADER).value());
            assertArrayEquals(bareAvro(candidate), bare);

            AvroDeserializer<RetrievalCandidate> reader = deserializer(server.url(), false);
            assertEquals(candidate, reader.deserialize(TOPIC, new RecordHeaders(), prefixed));
            for (int i = 0; i < 3; i++) {
                assertEquals(candidate, reader.deserialize(TOPIC, headers, bare));
            }
            assertEquals(1, server.requests("GET", "/schemas/guids/" + server.guidOf(id)), "cached like an id");
        }
    }

    @Test
    void theLastSchemaIdHeaderWinsOverEarlierOnesAndOverThePrefix() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            UUID guid = UUID.fromString(register(server).get("guid").asText());
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            Headers headers = new RecordHeaders()
                    .add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(UUID.randomUUID()))
                    .add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(guid));
            byte[] bare = bareAvro(candidate);

            assertEquals(candidate, deserializer(server.url(), false).deserialize(TOPIC, headers, bare));
            // A header with an integer id (magic 0) is read too, as Confluent's SchemaId.fromBytes does.
            int id = server.registerDirectly(SUBJECT, TestRecords.avscText("RetrievalCandidate"));
            Headers byId = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER,
                    ByteBuffer.allocate(5).put((byte) 0).putInt(id).array());
            assertEquals(candidate, deserializer(server.url(), false).deserialize(TOPIC, byId, bare));
            // The header is read first: bare Avro read by its prefix is refused (it has none).
            SerializationException prefixOnly = assertThrows(SerializationException.class,
                    () -> deserializer(server.url(), false).deserialize(TOPIC, bare));
            assertTrue(prefixOnly.getMessage().contains("magic byte"), prefixOnly.getMessage());
            // PrefixSchemaIdDeserializer ignores headers, as Confluent's does.
            assertThrows(SerializationException.class, () -> deserializer(server.url(), false,
                    SerdeConfig.VALUE_SCHEMA_ID_DESERIALIZER, "PrefixSchemaIdDeserializer").deserialize(TOPIC, headers, bare));
        }
    }

    @Test
    void aKeyReadsTheKeyHeaderNotTheValueOne() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            UUID guid = UUID.fromString(register(server).get("guid").asText());
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            Headers valueHeaderOnly = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(guid));
            Headers keyHeader = new RecordHeaders().add(WireFormat.KEY_SCHEMA_ID_HEADER, guidHeader(guid));

            assertEquals(candidate, deserializer(server.url(), true).deserialize(TOPIC, keyHeader, bareAvro(candidate)));
            assertThrows(SerializationException.class,
                    () -> deserializer(server.url(), true).deserialize(TOPIC, valueHeaderOnly, bareAvro(candidate)));
        }
    }

    @Test
    void aGuidInThePayloadPrefixIsReadToo() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            UUID guid = UUID.fromString(register(server).get("guid").asText());
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            byte[] bare = bareAvro(candidate);
            byte[] prefixed = ByteBuffer.allocate(17 + bare.length).put(guidHeader(guid)).put(bare).array();

            assertEquals(candidate, deserializer(server.url(), false).deserialize(TOPIC, prefixed));
        }
    }

    @Test
    void aMalformedSchemaIdHeaderIsRefusedNamingTheHeaderAndTheExpectedLayout() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            UUID guid = UUID.fromString(register(server).get("guid").asText());
            byte[] bare = bareAvro(TestRecords.fullCandidate());
            byte[] valid = guidHeader(guid);
            byte[][] bad = {Arrays.copyOf(valid, 16), Arrays.copyOf(valid, 18), new byte[0], valid.clone()};
            bad[3][0] = 2;
            for (byte[] value : bad) {
                Headers headers = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, value);
                SerializationException e = assertThrows(SerializationException.class,
                        () -> deserializer(server.url(), false).deserialize(TOPIC, headers, bare));
                assertTrue(e.getMessage().contains("__value_schema_id header of " + value.length + " bytes"), e.getMessage());
                assertTrue(e.getMessage().contains("expected 17 bytes"), e.getMessage());
                assertFalse(SchemaRegistryException.isTransientFailure(e), "a bad header is the record's fault");
            }
            // A header without a value is no header: the prefix is read, as Confluent's dual reader does.
            Headers nullValue = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, null);
            byte[] prefixed = serializer(server.url(), false).serialize(TOPIC, TestRecords.fullCandidate());
            assertEquals(TestRecords.fullCandidate(), deserializer(server.url(), false).deserialize(TOPIC, nullValue, prefixed));
        }
    }

    @Test
    void anUnknownGuidIsAPermanentFailureNamingTheGuidAndTheHeader() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            register(server);
            UUID unknown = UUID.fromString("0b4d1c1e-0000-4000-8000-00000000beef");
            Headers headers = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(unknown));

            SerializationException e = assertThrows(SerializationException.class,
                    () -> deserializer(server.url(), false).deserialize(TOPIC, headers, bareAvro(TestRecords.fullCandidate())));

            assertTrue(e.getMessage().startsWith("Unknown schema guid " + unknown), e.getMessage());
            assertTrue(e.getMessage().contains("named by its __value_schema_id header"), e.getMessage());
            assertFalse(SchemaRegistryException.isTransientFailure(e), "a 404 is final");
        }
    }

    @Test
    void aRegistryOutageWhileResolvingAGuidStaysTransient() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            UUID guid = UUID.fromString(register(server).get("guid").asText());
            Headers headers = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(guid));
            byte[] bare = bareAvro(TestRecords.fullCandidate());
            AvroDeserializer<RetrievalCandidate> reader = deserializer(server.url(), false);
            server.answerAllWith(503);

            SerializationException e = assertThrows(SerializationException.class, () -> reader.deserialize(TOPIC, headers, bare));

            assertTrue(SchemaRegistryException.isTransientFailure(e), e.getMessage());
            server.answerNormally();
            assertEquals(TestRecords.fullCandidate(), reader.deserialize(TOPIC, headers, bare), "read once the registry is back");
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void theHeaderSerializerWritesWhatTheDualReaderReadsOnEitherRegistry(TestRegistry.Kind kind) throws Exception {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            Headers headers = new RecordHeaders();
            byte[] bare = serializer(registry.url(), false, SerdeConfig.VALUE_SCHEMA_ID_SERIALIZER, "HeaderSchemaIdSerializer")
                    .serialize(TOPIC, headers, candidate);
            byte[] header = headers.lastHeader(WireFormat.VALUE_SCHEMA_ID_HEADER).value();
            assertEquals(17, header.length);
            assertEquals(1, header[0]);
            assertEquals(candidate, deserializer(registry.url(), false).deserialize(TOPIC, headers, bare));
        }
    }

    @Test
    void theHeaderSerializerRefusesACallWithoutHeadersNamingTheSetting() throws Exception {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            AvroSerializer<RetrievalCandidate> serializer = serializer(registry.url(), false,
                    SerdeConfig.VALUE_SCHEMA_ID_SERIALIZER, "HeaderSchemaIdSerializer");
            SerializationException e = assertThrows(SerializationException.class,
                    () -> serializer.serialize(TOPIC, TestRecords.fullCandidate()));
            assertTrue(e.getMessage().contains("value.schema.id.serializer=HeaderSchemaIdSerializer"), e.getMessage());
            assertNull(serializer.serialize(TOPIC, new RecordHeaders(), null), "a null value stays a tombstone");
        }
    }

    @Test
    void writingAPrefixRemovesAStaleSchemaIdHeaderSoTheDualReaderReadsThePrefix() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start()) {
            Headers headers = new RecordHeaders().add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader(UUID.randomUUID()))
                    .add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes());
            byte[] prefixed = serializer(server.url(), false).serialize(TOPIC, headers, TestRecords.fullCandidate());

            assertNull(headers.lastHeader(WireFormat.VALUE_SCHEMA_ID_HEADER));
            assertEquals(1, headers.toArray().length, "other headers stay");
            assertEquals(TestRecords.fullCandidate(), deserializer(server.url(), false).deserialize(TOPIC, headers, prefixed));
        }
    }

    @Test
    void confluentsClassNamesAreAcceptedAndOthersRefusedNamingTheKey() {
        assertTrue(new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x", SerdeConfig.KEY_SCHEMA_ID_SERIALIZER,
                "io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer")).headerSchemaId(true));
        assertFalse(new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x")).headerSchemaId(false), "prefix by default");
        assertTrue(new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x")).dualSchemaIdReader(false), "dual by default");
        assertFalse(new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://x", SerdeConfig.VALUE_SCHEMA_ID_DESERIALIZER,
                "io.confluent.kafka.serializers.schema.id.PrefixSchemaIdDeserializer")).dualSchemaIdReader(false));
        ConfigException e = assertThrows(ConfigException.class, () -> new SerdeConfig(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL,
                "mock://x", SerdeConfig.VALUE_SCHEMA_ID_SERIALIZER, "com.example.MySchemaIdSerializer")));
        assertTrue(e.getMessage().contains("value.schema.id.serializer"), e.getMessage());
        assertTrue(e.getMessage().contains("HeaderSchemaIdSerializer"), e.getMessage());
    }

    @Test
    void theRegistryAnswersGuidsWhereConfluentsDoesAndTheSameSchemaKeepsItsGuid() throws Exception {
        try (FakeSchemaRegistryServer server = FakeSchemaRegistryServer.start();
             FakeSchemaRegistryServer other = FakeSchemaRegistryServer.startWithFirstId(100)) {
            JsonNode first = register(server);
            JsonNode again = register(other);
            assertEquals(first.get("guid"), again.get("guid"), "a GUID names content, whatever the registry's ids");
            String byId = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/schemas/ids/"
                    + first.get("id").asInt())).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(first.get("guid"), JSON.readTree(byId).get("guid"));
            HttpResponse<String> unknown = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url()
                    + "/schemas/guids/" + UUID.randomUUID())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, unknown.statusCode());
            assertEquals(40403, JSON.readTree(unknown.body()).get("error_code").asInt());
        }
    }
}
