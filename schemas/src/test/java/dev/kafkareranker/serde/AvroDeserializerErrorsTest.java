package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the deserializer says about bytes it cannot read: every failure is Kafka's
 * {@link SerializationException}, naming the topic and the problem, so a dead-letter record says why.
 */
class AvroDeserializerErrorsTest {

    private static final String TOPIC = "candidates";

    private static AvroDeserializer<Object> deserializer(String url, boolean specific) {
        AvroDeserializer<Object> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url,
                SerdeConfig.SPECIFIC_AVRO_READER, specific,
                SerdeConfig.REQUEST_TIMEOUT_MS, 5_000), false);
        return deserializer;
    }

    private static byte[] header(int id, byte... body) {
        ByteBuffer buffer = ByteBuffer.allocate(5 + body.length);
        buffer.put((byte) 0).putInt(id).put(body);
        return buffer.array();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4})
    void fewerThanFiveBytesAreRejected(int length) throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            SerializationException e = assertThrows(SerializationException.class,
                    () -> deserializer(registry.url(), true).deserialize(TOPIC, new byte[length]));
            assertTrue(e.getMessage().contains("topic " + TOPIC), e.getMessage());
            assertTrue(e.getMessage().contains("has " + length + " bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("at least 5"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(bytes = {2, 0x7f, (byte) 0xff, '{'}) // 1 is a GUID's magic byte (HeaderSchemaIdTest)
    void wrongMagicByteIsRejectedNamingTheByte(byte magic) throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            byte[] bytes = header(1, (byte) 2, (byte) 'a');
            bytes[0] = magic;
            SerializationException e = assertThrows(SerializationException.class,
                    () -> deserializer(registry.url(), true).deserialize(TOPIC, bytes));
            assertTrue(e.getMessage().contains(String.format("magic byte 0x%02x", magic)), e.getMessage());
            assertTrue(e.getMessage().contains("not in the Confluent wire format"), e.getMessage());
        }
    }

    @Test
    void jsonTextIsNotMistakenForTheWireFormat() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            byte[] json = "{\"query_id\":\"q\"}".getBytes(StandardCharsets.UTF_8);
            SerializationException e = assertThrows(SerializationException.class,
                    () -> deserializer(registry.url(), false).deserialize(TOPIC, json));
            assertTrue(e.getMessage().contains("0x7b"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void unknownSchemaIdIsRejectedNamingTheId(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            for (boolean specific : new boolean[] {true, false}) {
                SerializationException e = assertThrows(SerializationException.class,
                        () -> deserializer(registry.url(), specific).deserialize(TOPIC, header(12345, (byte) 0)));
                assertTrue(e.getMessage().startsWith("Unknown schema id 12345"), e.getMessage());
                assertTrue(e.getMessage().contains("not found"), e.getMessage());
                SchemaRegistryException cause = (SchemaRegistryException) e.getCause();
                assertEquals(40403, cause.errorCode());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void truncatedAvroBodyIsRejectedNamingTopicAndId(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            SpecificAvroSerde<RetrievalCandidate> serde = SpecificAvroSerdeTest.serde(registry.url());
            byte[] whole = serde.serializer().serialize(TOPIC, TestRecords.fullCandidate());
            int id = WireFormat.schemaId(TOPIC, whole);

            for (int cut : new int[] {WireFormat.HEADER_SIZE, WireFormat.HEADER_SIZE + 3, whole.length / 2, whole.length - 1}) {
                byte[] truncated = Arrays.copyOf(whole, cut);
                for (boolean specific : new boolean[] {true, false}) {
                    SerializationException e = assertThrows(SerializationException.class,
                            () -> deserializer(registry.url(), specific).deserialize(TOPIC, truncated),
                            "cut at " + cut);
                    assertTrue(e.getMessage().contains("topic " + TOPIC), e.getMessage());
                    assertTrue(e.getMessage().contains("schema id " + id), e.getMessage());
                    assertTrue(e.getMessage().contains("not valid Avro"), e.getMessage());
                    assertNotNull(e.getCause());
                }
            }
            assertEquals(TestRecords.fullCandidate(), serde.deserializer().deserialize(TOPIC, whole),
                    "the untruncated bytes still read");
        }
    }

    @Test
    void corruptLengthInTheBodyIsASerializationException() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            int id = registry.client().register(TOPIC + "-value", RetrievalCandidate.getClassSchema());
            // zig-zag 0x01 = -1: a negative string length.
            byte[] negative = header(id, (byte) 0x01, (byte) 'x');
            // A string length of about 2^31: more than the bytes left and more than Avro allows.
            byte[] huge = header(id, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x0f);
            for (byte[] bytes : new byte[][] {negative, huge}) {
                SerializationException e = assertThrows(SerializationException.class,
                        () -> deserializer(registry.url(), true).deserialize(TOPIC, bytes));
                assertTrue(e.getMessage().contains("not valid Avro"), e.getMessage());
            }
        }
    }

    @Test
    void badUnionBranchIsASerializationException() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            Schema schema = SchemaBuilder.record("WithUnion").namespace("test.only").fields()
                    .optionalInt("maybe").endRecord();
            int id = registry.client().register(TOPIC + "-value", schema);
            // zig-zag 0x0a = union branch 5 of a two-branch union.
            byte[] bytes = header(id, (byte) 0x0a, (byte) 0x02);
            SerializationException e = assertThrows(SerializationException.class,
                    () -> deserializer(registry.url(), false).deserialize(TOPIC, bytes));
            assertTrue(e.getMessage().contains("schema id " + id), e.getMessage());
        }
    }

    @Test
    void idOfANonAvroSchemaIsRejectedAsNotAvro() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            int id = fake.registerDirectly("orders-value", "PROTOBUF",
                    "syntax = \"proto3\";\nmessage Order { string id = 1; }\n");
            for (boolean specific : new boolean[] {true, false}) {
                SerializationException e = assertThrows(SerializationException.class,
                        () -> deserializer(fake.url(), specific).deserialize("orders", header(id, (byte) 2, (byte) 'x')));
                assertTrue(e.getMessage().contains("schema id " + id + " is a PROTOBUF schema, not Avro"), e.getMessage());
                assertFalse(SchemaRegistryException.isTransientFailure(e), "permanent: a dead letter");
            }
        }
    }

    @Test
    void specificReaderWithoutAGeneratedClassSaysSo() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            Schema schema = SchemaBuilder.record("NotGenerated").namespace("test.only").fields()
                    .requiredString("name").endRecord();
            GenericRecord record = new GenericData.Record(schema);
            record.put("name", "n");
            AvroSerializer<GenericRecord> serializer = new AvroSerializer<>();
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
            byte[] bytes = serializer.serialize(TOPIC, record);

            SerializationException e = assertThrows(SerializationException.class,
                    () -> deserializer(registry.url(), true).deserialize(TOPIC, bytes));
            assertTrue(e.getMessage().contains("no generated class test.only.NotGenerated"), e.getMessage());

            GenericRecord generic = (GenericRecord) deserializer(registry.url(), false).deserialize(TOPIC, bytes);
            assertEquals("n", generic.get("name").toString());
        }
    }

    @Test
    void nullBytesReadAsNullWithoutAskingTheRegistry() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            assertNull(deserializer(fake.url(), true).deserialize(TOPIC, null));
            assertEquals(0, fake.totalRequests());
        }
    }
}
