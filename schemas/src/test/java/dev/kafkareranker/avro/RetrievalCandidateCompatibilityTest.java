package dev.kafkareranker.avro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

/**
 * The RetrievalCandidate contract stays readable for 1.0 producers: the current schema, as reader, accepts data
 * written with the minimal "v1" schema, and every field after the first four is optional with a default.
 */
class RetrievalCandidateCompatibilityTest {

    private static final Schema CURRENT = RetrievalCandidate.getClassSchema();
    private static final List<String> V1_FIELDS = List.of("query_id", "query", "doc_id", "text");

    /** The 1.0 contract: only the four required fields. */
    private static Schema v1() {
        return SchemaBuilder.record("RetrievalCandidate").namespace("dev.kafkareranker.avro").fields()
                .requiredString("query_id")
                .requiredString("query")
                .requiredString("doc_id")
                .requiredString("text")
                .endRecord();
    }

    @Test
    void currentReaderCanReadV1WriterData() {
        SchemaCompatibility.SchemaPairCompatibility result =
                SchemaCompatibility.checkReaderWriterCompatibility(CURRENT, v1());
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(), result.getDescription());
    }

    @Test
    void currentSchemaCanReadItself() {
        SchemaCompatibility.SchemaPairCompatibility result =
                SchemaCompatibility.checkReaderWriterCompatibility(CURRENT, CURRENT);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(), result.getDescription());
    }

    @Test
    void v1ReaderCanReadCurrentWriterDataToo() {
        // Forward compatibility: a 1.0 consumer skips the fields it does not know.
        SchemaCompatibility.SchemaPairCompatibility result =
                SchemaCompatibility.checkReaderWriterCompatibility(v1(), CURRENT);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(), result.getDescription());
    }

    @Test
    void compatibilityCheckWouldCatchANewRequiredField() {
        // Guards the test above against a check that passes everything.
        Schema withRequired = SchemaBuilder.record("RetrievalCandidate").namespace("dev.kafkareranker.avro").fields()
                .requiredString("query_id").requiredString("query").requiredString("doc_id").requiredString("text")
                .requiredInt("must_have")
                .endRecord();
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(withRequired, v1()).getType());
    }

    @Test
    void firstFourFieldsAreTheRequiredV1Fields() {
        List<String> firstFour = CURRENT.getFields().subList(0, 4).stream().map(Schema.Field::name).toList();
        assertEquals(V1_FIELDS, firstFour);
        for (String name : V1_FIELDS) {
            Schema.Field field = CURRENT.getField(name);
            assertEquals(Schema.Type.STRING, field.schema().getType(), name);
            assertFalse(field.hasDefaultValue(), name + " is required");
        }
    }

    @Test
    void everyFieldAfterTheFirstFourHasADefault() {
        List<Schema.Field> later = CURRENT.getFields().subList(V1_FIELDS.size(), CURRENT.getFields().size());
        assertFalse(later.isEmpty());
        for (Schema.Field field : later) {
            assertTrue(field.hasDefaultValue(), field.name() + " was added after 1.0 and needs a default");
            if (field.schema().getType() == Schema.Type.UNION) {
                // A union's default must match its first branch; null first keeps "absent" meaning null.
                assertEquals(Schema.Type.NULL, field.schema().getTypes().get(0).getType(), field.name());
                assertEquals(JsonProperties.NULL_VALUE, field.defaultVal(), field.name() + " defaults to null");
            }
        }
        assertEquals(Map.of(), CURRENT.getField("metadata").defaultVal(), "metadata defaults to an empty map");
        assertTrue(Set.of("retrieval_score", "retrieval_rank", "candidate_count", "model", "top_k", "metadata", "event_time")
                .stream().allMatch(name -> CURRENT.getField(name) != null));
    }

    @Test
    void v1BytesReadIntoTheGeneratedClassWithDefaults() throws IOException {
        GenericRecord old = new GenericRecordBuilder(v1())
                .set("query_id", "q").set("query", "what").set("doc_id", "d").set("text", "passage").build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(v1()).write(old, encoder);
        encoder.flush();

        RetrievalCandidate read = new SpecificDatumReader<RetrievalCandidate>(v1(), CURRENT)
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));

        assertEquals("q", read.getQueryId());
        assertEquals("what", read.getQuery());
        assertEquals("d", read.getDocId());
        assertEquals("passage", read.getText());
        assertNull(read.getRetrievalScore());
        assertNull(read.getRetrievalRank());
        assertNull(read.getCandidateCount());
        assertNull(read.getModel());
        assertNull(read.getTopK());
        assertNull(read.getEventTime());
        assertNotNull(read.getMetadata());
        assertEquals(Map.of(), read.getMetadata());
    }
}
