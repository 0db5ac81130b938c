package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link SpecificAvroSerde} end to end, once with a {@code mock://} registry and once with the fake HTTP
 * registry: round trips, the exact wire bytes, and the registration modes.
 */
class SpecificAvroSerdeTest {

    private static final String TOPIC = "candidates";

    static <T extends SpecificRecord> SpecificAvroSerde<T> configured(String url, boolean isKey, Object... extra) {
        Map<String, Object> config = new HashMap<>();
        config.put(SerdeConfig.SCHEMA_REGISTRY_URL, url);
        config.put(SerdeConfig.REQUEST_TIMEOUT_MS, 5_000);
        for (int i = 0; i < extra.length; i += 2) {
            config.put((String) extra[i], extra[i + 1]);
        }
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(config, isKey);
        return serde;
    }

    static <T extends SpecificRecord> SpecificAvroSerde<T> serde(String url, Object... extra) {
        return configured(url, false, extra);
    }

    private static int headerId(byte[] bytes) {
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    private static byte[] plainAvro(SpecificRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void retrievalCandidateRoundTrips(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url());
            for (RetrievalCandidate candidate : new RetrievalCandidate[] {
                    TestRecords.fullCandidate(), TestRecords.minimalCandidate()}) {
                byte[] bytes = serde.serializer().serialize(TOPIC, candidate);
                RetrievalCandidate read = serde.deserializer().deserialize(TOPIC, bytes);

                assertEquals(candidate, read);
                assertInstanceOf(String.class, read.getQueryId());
                assertEquals(candidate.getEventTime(), read.getEventTime());
                read.getMetadata().forEach((key, value) -> {
                    assertInstanceOf(String.class, key);
                    assertInstanceOf(String.class, value);
                });
            }
            assertTrue(TestRecords.minimalCandidate().getMetadata().isEmpty());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void rankedResultsRoundTrips(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            SpecificAvroSerde<RankedResults> serde = serde(registry.url());
            RankedResults results = TestRecords.rankedResults();

            RankedResults read = serde.deserializer().deserialize("results", serde.serializer().serialize("results", results));

            assertEquals(results, read);
            assertEquals("doc-7", read.getResults().get(0).getDocId());
            assertEquals(results.getFirstCandidateTime(), read.getFirstCandidateTime());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void serdesConfiguredSeparatelyShareTheRegistry(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            byte[] bytes = serde(registry.url()).serializer().serialize(TOPIC, TestRecords.fullCandidate());
            RetrievalCandidate read = SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url())
                    .deserializer().deserialize(TOPIC, bytes);
            assertEquals(TestRecords.fullCandidate(), read);
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void bytesAreMagicZeroTheRegistryIdAndPlainAvro(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            byte[] bytes = serde(registry.url()).serializer().serialize(TOPIC, candidate);

            int registered = registry.client().idOf(TOPIC + "-value", TestRecords.avsc("RetrievalCandidate"));
            assertEquals(WireFormat.MAGIC_BYTE, bytes[0]);
            assertEquals(registered, headerId(bytes));
            assertEquals(registered, WireFormat.schemaId(TOPIC, bytes));
            assertArrayEquals(plainAvro(candidate), Arrays.copyOfRange(bytes, WireFormat.HEADER_SIZE, bytes.length));
        }
    }

    @Test
    void schemaIdIsWrittenBigEndian() throws IOException {
        int id = 0x01020304;
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.startWithFirstId(id)) {
            byte[] bytes = serde(fake.url()).serializer().serialize(TOPIC, TestRecords.minimalCandidate());

            assertArrayEquals(new byte[] {0, 1, 2, 3, 4}, Arrays.copyOf(bytes, 5));
            RetrievalCandidate read = SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url())
                    .deserializer().deserialize(TOPIC, bytes);
            assertEquals(TestRecords.minimalCandidate(), read);
            assertEquals(1, fake.requests("GET", "/schemas/ids/" + id));
        }
    }

    @Test
    void keySerdeUsesTheKeySubject() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            configured(fake.url(), true).serializer().serialize(TOPIC, TestRecords.minimalCandidate());
            assertEquals(1, fake.requests("POST", "/subjects/candidates-key/versions"));
            assertEquals(List.of("candidates-key"), fake.subjects());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void nullSerializesToNullAndBack(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url());
            assertNull(serde.serializer().serialize(TOPIC, null));
            assertNull(serde.deserializer().deserialize(TOPIC, null));
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void withoutAutoRegisterAnUnregisteredSchemaFailsNamingTheSubject(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(), SerdeConfig.AUTO_REGISTER_SCHEMAS, false);

            SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                    () -> serde.serializer().serialize(TOPIC, TestRecords.minimalCandidate()));

            assertInstanceOf(SerializationException.class, e);
            assertEquals(40401, e.errorCode());
            assertTrue(e.getMessage().contains("Subject 'candidates-value' not found."), e.getMessage());
            assertThrows(SchemaRegistryException.class, () -> registry.client().latest(TOPIC + "-value"),
                    "nothing may be registered");
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void withoutAutoRegisterASubjectHoldingOnlyOtherSchemasFailsWith40403(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            registry.client().register(TOPIC + "-value", TestRecords.candidateV1());
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(), SerdeConfig.AUTO_REGISTER_SCHEMAS, false);

            SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                    () -> serde.serializer().serialize(TOPIC, TestRecords.minimalCandidate()));
            assertEquals(40403, e.errorCode());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void withoutAutoRegisterAPreRegisteredSchemaIsUsedByItsId(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            registry.client().register("other-value", TestRecords.candidateV1());
            int id = registry.client().register(TOPIC + "-value", TestRecords.avsc("RetrievalCandidate"));
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(), SerdeConfig.AUTO_REGISTER_SCHEMAS, false);

            byte[] bytes = serde.serializer().serialize(TOPIC, TestRecords.fullCandidate());

            assertEquals(id, headerId(bytes));
            assertEquals(TestRecords.fullCandidate(), serde.deserializer().deserialize(TOPIC, bytes));
        }
    }

    @Test
    void useLatestVersionWritesTheLatestIdWithoutLookingTheSchemaUp() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            fake.registerDirectly("candidates-value", TestRecords.candidateV1().toString());
            int latest = fake.registerDirectly("candidates-value", RetrievalCandidate.getClassSchema().toString());
            SpecificAvroSerde<RetrievalCandidate> serde = serde(fake.url(),
                    SerdeConfig.AUTO_REGISTER_SCHEMAS, false, SerdeConfig.USE_LATEST_VERSION, true);

            byte[] first = serde.serializer().serialize(TOPIC, TestRecords.fullCandidate());
            byte[] second = serde.serializer().serialize(TOPIC, TestRecords.minimalCandidate());

            assertEquals(latest, headerId(first));
            assertEquals(latest, headerId(second));
            assertEquals(1, fake.requests("GET", "/subjects/candidates-value/versions/latest"));
            assertEquals(0, fake.requests("POST", "/subjects/candidates-value"));
            assertEquals(0, fake.requests("POST", "/subjects/candidates-value/versions"));
            assertEquals(TestRecords.fullCandidate(), serde.deserializer().deserialize(TOPIC, first));
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void useLatestVersionUsesTheLatestId(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            registry.client().register(TOPIC + "-value", TestRecords.candidateV1());
            int latest = registry.client().register(TOPIC + "-value", RetrievalCandidate.getClassSchema());
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(),
                    SerdeConfig.AUTO_REGISTER_SCHEMAS, false, SerdeConfig.USE_LATEST_VERSION, true);

            assertEquals(latest, headerId(serde.serializer().serialize(TOPIC, TestRecords.fullCandidate())));
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void useLatestVersionRefusesWhenTheLatestSchemaIsNotTheRecords(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            registry.client().register(TOPIC + "-value", RetrievalCandidate.getClassSchema());
            int v1 = registry.client().register(TOPIC + "-value", TestRecords.candidateV1());
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(),
                    SerdeConfig.AUTO_REGISTER_SCHEMAS, false, SerdeConfig.USE_LATEST_VERSION, true);

            SerializationException e = assertThrows(SerializationException.class,
                    () -> serde.serializer().serialize(TOPIC, TestRecords.fullCandidate()));
            assertTrue(e.getMessage().contains("use.latest.version"), e.getMessage());
            assertTrue(e.getMessage().contains("id " + v1), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void useLatestVersionOnAnEmptySubjectFailsWith40401(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(),
                    SerdeConfig.AUTO_REGISTER_SCHEMAS, false, SerdeConfig.USE_LATEST_VERSION, true);
            SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                    () -> serde.serializer().serialize(TOPIC, TestRecords.fullCandidate()));
            assertEquals(40401, e.errorCode());
        }
    }

    @Test
    void serdeIsAlwaysASpecificReaderEvenWhenConfiguredOtherwise() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            SpecificAvroSerde<RetrievalCandidate> serde = serde(registry.url(), SerdeConfig.SPECIFIC_AVRO_READER, false);
            byte[] bytes = serde.serializer().serialize(TOPIC, TestRecords.fullCandidate());
            Object read = serde.deserializer().deserialize(TOPIC, bytes);
            assertInstanceOf(RetrievalCandidate.class, read);
        }
    }
}
