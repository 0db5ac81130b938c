package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Records written with another schema of the same full name, registered by hand as another producer would:
 * the specific reader resolves them against the generated class or says why it cannot; the generic reader
 * returns them as written.
 */
class SchemaEvolutionSerdeTest {

    private static final String TOPIC = "candidates";

    private static byte[] writeGeneric(TestRegistry registry, GenericRecord record) {
        AvroSerializer<GenericRecord> serializer = new AvroSerializer<>();
        serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url(),
                SerdeConfig.REQUEST_TIMEOUT_MS, 5_000), false);
        return serializer.serialize(TOPIC, record);
    }

    private static <T> AvroDeserializer<T> reader(TestRegistry registry, boolean specific) {
        AvroDeserializer<T> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url(),
                SerdeConfig.SPECIFIC_AVRO_READER, specific,
                SerdeConfig.REQUEST_TIMEOUT_MS, 5_000), false);
        return deserializer;
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void writerWithoutARequiredReaderFieldFailsNamingTheField(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            Schema reduced = TestRecords.candidateWithoutText();
            int id = registry.client().register(TOPIC + "-value", reduced);
            GenericRecord record = new GenericRecordBuilder(reduced)
                    .set("query_id", "q").set("query", "what").set("doc_id", "d").build();
            byte[] bytes = writeGeneric(registry, record);
            assertEquals(id, WireFormat.schemaId(TOPIC, bytes));

            SerializationException e = assertThrows(SerializationException.class,
                    () -> SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url()).deserializer().deserialize(TOPIC, bytes));
            assertTrue(e.getMessage().contains("schema id " + id), e.getMessage());
            assertTrue(e.getMessage().contains("text"), "should name the missing field: " + e.getMessage());

            // The same bytes are fine for a generic reader, which reads them as written.
            GenericRecord generic = SchemaEvolutionSerdeTest.<GenericRecord>reader(registry, false).deserialize(TOPIC, bytes);
            assertEquals(reduced, generic.getSchema());
            assertEquals("what", generic.get("query").toString());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void writerWithAnExtraOptionalFieldStillReads(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            Schema newer = TestRecords.candidateWithExtraOptionalField();
            RetrievalCandidate expected = TestRecords.fullCandidate();
            GenericRecordBuilder builder = new GenericRecordBuilder(newer);
            for (Schema.Field field : RetrievalCandidate.getClassSchema().getFields()) {
                builder.set(field.name(), expected.get(field.pos()));
            }
            // The generic writer has no logical-type conversions: timestamps are plain longs to it.
            builder.set("event_time", expected.getEventTime().toEpochMilli());
            builder.set("retriever", "bm25-v2");
            byte[] bytes = writeGeneric(registry, builder.build());
            int id = WireFormat.schemaId(TOPIC, bytes);
            assertEquals(AvroSerializer.asWritten(newer), registry.client().byId(id), "registered without avro.java.string");
            assertFalse(newer.equals(RetrievalCandidate.getClassSchema()));

            RetrievalCandidate read = SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url())
                    .deserializer().deserialize(TOPIC, bytes);

            assertEquals(expected, read);
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void version1WriterReadsWithDefaultsForTheLaterFields(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            GenericRecord v1 = new GenericRecordBuilder(TestRecords.candidateV1())
                    .set("query_id", "q-1").set("query", "old").set("doc_id", "d-1").set("text", "passage").build();
            byte[] bytes = writeGeneric(registry, v1);

            RetrievalCandidate read = SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url())
                    .deserializer().deserialize(TOPIC, bytes);

            assertEquals("q-1", read.getQueryId());
            assertEquals("passage", read.getText());
            assertNull(read.getRetrievalScore());
            assertNull(read.getCandidateCount());
            assertNull(read.getTopK());
            assertNull(read.getEventTime());
            assertEquals(Map.of(), read.getMetadata());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void genericReaderReturnsGenericRecordsInTheWritersSchema(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            RetrievalCandidate candidate = TestRecords.fullCandidate();
            byte[] bytes = SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url()).serializer().serialize(TOPIC, candidate);

            Object read = reader(registry, false).deserialize(TOPIC, bytes);

            assertInstanceOf(GenericData.Record.class, read);
            assertFalse(read instanceof SpecificRecord, "specific.avro.reader=false must not build generated classes");
            GenericRecord record = (GenericRecord) read;
            assertEquals(TestRecords.avsc("RetrievalCandidate"), record.getSchema());
            assertEquals("q-42", record.get("query_id").toString());
            assertEquals(12.5, record.get("retrieval_score"));
            assertEquals(3, record.get("retrieval_rank"));
            assertEquals(candidate.getEventTime().toEpochMilli(), record.get("event_time"));
            // The registered contract has no avro.java.string, so a generic reader's map keys are Utf8, as with any Avro reader.
            assertEquals("bm25", ((Map<?, ?>) record.get("metadata")).get(new org.apache.avro.util.Utf8("source")).toString());
        }
    }

    @ParameterizedTest
    @EnumSource(TestRegistry.Kind.class)
    void genericReaderIsTheDefault(TestRegistry.Kind kind) throws IOException {
        try (TestRegistry registry = TestRegistry.open(kind)) {
            byte[] bytes = SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url())
                    .serializer().serialize(TOPIC, TestRecords.minimalCandidate());
            AvroDeserializer<Object> deserializer = new AvroDeserializer<>();
            deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
            assertFalse(deserializer.deserialize(TOPIC, bytes) instanceof RetrievalCandidate);
        }
    }
}
