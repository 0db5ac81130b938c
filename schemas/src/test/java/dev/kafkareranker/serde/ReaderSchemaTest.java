package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/**
 * The reader side of the contract: records are read as the declared class or refused with a reason a dead
 * letter can carry; never a ClassCastException, a misleading "not valid Avro", or an allocation larger than
 * the record. Real Avro bytes on the fake registry over HTTP.
 */
class ReaderSchemaTest {

    private static final String TOPIC = "candidates";

    private static SpecificAvroSerde<RetrievalCandidate> candidates(String url) {
        SpecificAvroSerde<RetrievalCandidate> serde = new SpecificAvroSerde<>(RetrievalCandidate.class);
        serde.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
        return serde;
    }

    private static <T extends SpecificRecord> byte[] write(String url, T record) {
        return SpecificAvroSerdeTest.<T>serde(url).serializer().serialize(TOPIC, record);
    }

    private static byte[] withBody(int id, byte... body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(id).put(body).array();
    }

    @Test
    void recordsOfOtherGeneratedClassesAreRefusedNamingBothSchemas() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            QueryState state = QueryState.newBuilder().setQueryId("q").setQuery("what").setFirstSeenMillis(0L).setReceived(1)
                    .build();
            for (SpecificRecord other : List.<SpecificRecord>of(TestRecords.rankedResults(), state)) {
                byte[] bytes = write(fake.url(), other);
                SerializationException e = assertThrows(SerializationException.class,
                        () -> candidates(fake.url()).deserializer().deserialize(TOPIC, bytes));
                assertTrue(e.getMessage().contains("(" + other.getSchema().getFullName() + ") cannot be read with reader schema "
                        + RetrievalCandidate.getClassSchema().getFullName()), e.getMessage());
                assertTrue(e.getMessage().contains("NAME_MISMATCH"), "Avro's reason: " + e.getMessage());
                assertFalse(SchemaRegistryException.isTransientFailure(e));
            }
        }
    }

    @Test
    void theDeclaredTypeCanAlsoComeFromConfluentsKey() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            byte[] results = write(fake.url(), TestRecords.rankedResults());
            SpecificAvroSerde<RetrievalCandidate> configured = SpecificAvroSerdeTest.serde(fake.url(),
                    SerdeConfig.SPECIFIC_AVRO_VALUE_TYPE, RetrievalCandidate.class.getName());
            assertThrows(SerializationException.class, () -> configured.deserializer().deserialize(TOPIC, results));

            // Without a declared type the writer's name picks the class: why the app declares one per topic.
            Object undeclared = SpecificAvroSerdeTest.serde(fake.url()).deserializer().deserialize(TOPIC, results);
            assertInstanceOf(RankedResults.class, undeclared);
        }
    }

    @Test
    void aWriterSchemaNamingANonGeneratedClassIsNotInstantiated() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            Schema hostile = new Schema.Parser().parse(
                    "{\"type\":\"record\",\"name\":\"ProcessBuilder\",\"namespace\":\"java.lang\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
            int id = fake.registerDirectly(TOPIC + "-value", hostile.toString());
            SerializationException e = assertThrows(SerializationException.class,
                    () -> SpecificAvroSerdeTest.serde(fake.url()).deserializer().deserialize(TOPIC, withBody(id, (byte) 2)));
            assertTrue(e.getMessage().contains("no generated class java.lang.ProcessBuilder"), e.getMessage());
        }
    }

    @Test
    void aJsonSchemaIdIsNamedAsNotAvro() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            int id = fake.registerDirectly(TOPIC + "-value", "JSON", "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
            SerializationException e = assertThrows(SerializationException.class,
                    () -> candidates(fake.url()).deserializer().deserialize(TOPIC, withBody(id, (byte) 2, (byte) 'a')));
            assertTrue(e.getMessage().contains("schema id " + id + " is a JSON schema, not Avro"), e.getMessage());
            assertFalse(e.getMessage().contains("UnresolvedSchema"), e.getMessage());
            assertFalse(SchemaRegistryException.isTransientFailure(e));
        }
    }

    @Test
    void aWriterTheReaderCannotResolveIsReportedAsIncompatibleNotAsBadBytes() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            // A producer widened retrieval_rank from int to long: the app's int reader cannot take a long.
            String text = AvroSerializer.asWritten(RetrievalCandidate.getClassSchema()).toString()
                    .replace("\"name\":\"retrieval_rank\",\"type\":[\"null\",\"int\"]", "\"name\":\"retrieval_rank\",\"type\":[\"null\",\"long\"]");
            Schema widened = new Schema.Parser().parse(text);
            assertFalse(widened.equals(AvroSerializer.asWritten(RetrievalCandidate.getClassSchema())), "the edit took");
            GenericRecord record = new GenericData.Record(widened);
            record.put("query_id", "q");
            record.put("query", "what");
            record.put("doc_id", "d");
            record.put("text", "passage");
            record.put("retrieval_rank", 7L);
            record.put("metadata", Map.of());
            AvroSerializer<GenericRecord> serializer = new AvroSerializer<>();
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url()), false);
            byte[] bytes = serializer.serialize(TOPIC, record);
            int id = WireFormat.schemaId(TOPIC, bytes);

            SerializationException e = assertThrows(SerializationException.class,
                    () -> candidates(fake.url()).deserializer().deserialize(TOPIC, bytes));
            assertTrue(e.getMessage().contains("writer schema id " + id + " (dev.kafkareranker.avro.RetrievalCandidate) cannot be read"
                    + " with reader schema dev.kafkareranker.avro.RetrievalCandidate"), e.getMessage());
            assertTrue(e.getMessage().contains("TYPE_MISMATCH") && e.getMessage().contains("retrieval_rank") || e.getMessage().contains("/fields/5"),
                    "names Avro's reason and where: " + e.getMessage());
            assertFalse(e.getMessage().contains("not valid Avro"), e.getMessage());
        }
    }

    @Test
    void trailingBytesAfterAValidRecordAreRefused() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            byte[] valid = write(fake.url(), TestRecords.fullCandidate());
            byte[] longer = Arrays.copyOf(valid, valid.length + 3);
            SerializationException e = assertThrows(SerializationException.class,
                    () -> candidates(fake.url()).deserializer().deserialize(TOPIC, longer));
            assertTrue(e.getMessage().contains("has 3 trailing bytes after its Avro value"), e.getMessage());
            assertEquals(TestRecords.fullCandidate(), candidates(fake.url()).deserializer().deserialize(TOPIC, valid));
        }
    }

    /** Zig-zag varint of a long, as Avro writes lengths and counts. */
    private static byte[] varint(long value) {
        long n = (value << 1) ^ (value >> 63);
        ByteBuffer out = ByteBuffer.allocate(10);
        while ((n & ~0x7FL) != 0) {
            out.put((byte) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.put((byte) n);
        return Arrays.copyOf(out.array(), out.position());
    }

    private static byte[] padded(int id, byte[] prefix, int total) {
        byte[] body = Arrays.copyOf(prefix, total - 5);
        return withBody(id, body);
    }

    @Test
    void aStringClaimingMoreThanTheRecordHoldsFailsBeforeAllocating() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            int id = fake.registerDirectly(TOPIC + "-value", TestRecords.avscText("RetrievalCandidate"));
            // 1.5 GB: under Avro's own limit (about 2 GB), so only a bound relative to the record stops the allocation.
            byte[] bytes = padded(id, varint(1_500_000_000L), 100);
            SerializationException e = assertThrows(SerializationException.class,
                    () -> candidates(fake.url()).deserializer().deserialize(TOPIC, bytes));
            assertTrue(e.getMessage().contains("a string claims 1500000000 bytes but only"), e.getMessage());
            assertTrue(e.getMessage().contains("of the record's 95 bytes are left"), e.getMessage());
        }
    }

    @Test
    void bytesArraysAndMapsClaimingMoreThanTheRecordHoldsFailBeforeAllocating() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            int bytesId = fake.registerDirectly("b-value",
                    "{\"type\":\"record\",\"name\":\"B\",\"namespace\":\"test.only\",\"fields\":[{\"name\":\"b\",\"type\":\"bytes\"}]}");
            int arrayId = fake.registerDirectly("a-value",
                    "{\"type\":\"record\",\"name\":\"A\",\"namespace\":\"test.only\",\"fields\":[{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"long\"}}]}");
            int mapId = fake.registerDirectly("m-value",
                    "{\"type\":\"record\",\"name\":\"M\",\"namespace\":\"test.only\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}}]}");
            AvroDeserializer<Object> generic = new AvroDeserializer<>();
            generic.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, fake.url()), false);

            Map<byte[], String> cases = Map.of(
                    padded(bytesId, varint(1_500_000_000L), 100), "a bytes value claims 1500000000 bytes",
                    padded(arrayId, varint(1_000_000_000L), 100), "a block of array items claims 1000000000 items",
                    padded(mapId, varint(1_000_000_000L), 100), "a block of map entries claims 1000000000 items");
            cases.forEach((bytes, expected) -> {
                SerializationException e = assertThrows(SerializationException.class, () -> generic.deserialize(TOPIC, bytes));
                assertTrue(e.getMessage().contains(expected), e.getMessage());
            });
        }
    }
}
