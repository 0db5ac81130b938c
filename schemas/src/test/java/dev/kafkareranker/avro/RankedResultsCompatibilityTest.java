package dev.kafkareranker.avro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * RankedResults gained per-document provenance (tokens scored and cut, chunks, the best chunk's characters) and
 * the cascade's fields (stage, first_stage_score). Both directions stay readable: consumers built on the schema
 * before them read new results (skipping the fields they do not know), and new consumers read old results (the
 * fields null). The schema before them is kept as a test resource, exactly as it was released.
 */
class RankedResultsCompatibilityTest {

    private static final Schema CURRENT = RankedResults.getClassSchema();
    private static final Schema BEFORE = before();
    private static final List<String> ADDED = List.of("tokens_scored", "tokens_cut", "chunks", "best_chunk_start", "best_chunk_end",
            "stage", "first_stage_score");

    private static Schema before() {
        try (InputStream in = RankedResultsCompatibilityTest.class.getResourceAsStream("/avro/RankedResults-before-provenance.avsc")) {
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Schema document(Schema results) {
        return results.getField("results").schema().getElementType();
    }

    @Test
    void newReadersReadResultsWrittenBeforeProvenance() {
        SchemaCompatibility.SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(CURRENT, BEFORE);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(), result.getDescription());
    }

    @Test
    void readersFromBeforeProvenanceReadNewResults() {
        SchemaCompatibility.SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(BEFORE, CURRENT);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(), result.getDescription());
    }

    @Test
    void theCheckWouldCatchADocumentFieldWithoutDefault() {
        // Guards the two tests above against a check that passes everything.
        Schema required = SchemaBuilder.record("RankedDocument").namespace("dev.kafkareranker.avro").fields()
                .requiredString("doc_id").requiredInt("chunks").endRecord();
        Schema old = SchemaBuilder.record("RankedDocument").namespace("dev.kafkareranker.avro").fields()
                .requiredString("doc_id").endRecord();
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE, SchemaCompatibility.checkReaderWriterCompatibility(required, old).getType());
    }

    @Test
    void onlyTheNewDocumentFieldsWereAddedEachNullableWithANullDefault() {
        Set<String> before = document(BEFORE).getFields().stream().map(Schema.Field::name).collect(Collectors.toSet());
        List<String> added = document(CURRENT).getFields().stream().map(Schema.Field::name).filter(n -> !before.contains(n)).toList();
        assertEquals(ADDED, added);
        for (String name : ADDED) {
            Schema.Field field = document(CURRENT).getField(name);
            assertEquals(Schema.Type.UNION, field.schema().getType(), name);
            assertEquals(Schema.Type.NULL, field.schema().getTypes().get(0).getType(), name + ": null first, so absent means null");
            assertEquals(JsonProperties.NULL_VALUE, field.defaultVal(), name);
        }
        assertEquals(BEFORE.getFields().stream().map(Schema.Field::name).toList(), CURRENT.getFields().stream().map(Schema.Field::name).toList(),
                "RankedResults' own fields are unchanged");
    }

    @Test
    void bytesWrittenBeforeProvenanceReadIntoTheNewClassWithNullFields() throws IOException {
        GenericRecord doc = new GenericData.Record(document(BEFORE));
        doc.put("doc_id", "d1");
        doc.put("score", 0.9);
        doc.put("logit", 2.2);
        doc.put("rank", 1);
        doc.put("metadata", Map.of());
        GenericRecord old = oldResults(doc);
        byte[] bytes = write(new GenericDatumWriter<>(BEFORE), old);

        RankedResults read = new SpecificDatumReader<RankedResults>(BEFORE, CURRENT)
                .read(null, DecoderFactory.get().binaryDecoder(bytes, null));

        RankedDocument d = read.getResults().get(0);
        assertEquals("d1", d.getDocId());
        assertEquals(0.9, d.getScore());
        assertNull(d.getTokensScored());
        assertNull(d.getTokensCut());
        assertNull(d.getChunks());
        assertNull(d.getBestChunkStart());
        assertNull(d.getBestChunkEnd());
        assertNull(d.getStage());
        assertNull(d.getFirstStageScore());
    }

    @Test
    void newResultsWithProvenanceReadWithTheOldSchemaKeepEveryOldField() throws IOException {
        RankedDocument doc = RankedDocument.newBuilder().setDocId("d1").setScore(0.8).setLogit(1.4).setRank(1)
                .setRetrievalRank(3).setTokensScored(1530).setTokensCut(470).setChunks(4).setBestChunkStart(2048).setBestChunkEnd(4410)
                .setStage("legal").setFirstStageScore(0.5).build();
        RankedResults current = RankedResults.newBuilder().setQueryId("q").setQuery("điều 5").setResults(List.of(doc))
                .setModel(ModelInfo.newBuilder().setName("legal").setVersion("2").build()).setComplete(true).setCandidatesReceived(1)
                .setFirstCandidateTime(java.time.Instant.ofEpochMilli(1)).setEmittedTime(java.time.Instant.ofEpochMilli(2))
                .setScoringMs(3).build();
        byte[] bytes = write(new SpecificDatumWriter<>(CURRENT), current);

        GenericRecord old = new GenericDatumReader<GenericRecord>(CURRENT, BEFORE).read(null, DecoderFactory.get().binaryDecoder(bytes, null));

        GenericRecord d = (GenericRecord) ((List<?>) old.get("results")).get(0);
        assertEquals("d1", d.get("doc_id").toString());
        assertEquals(0.8, d.get("score"));
        assertEquals(3, d.get("retrieval_rank"));
        assertTrue(d.getSchema().getField("chunks") == null, "the old reader has no provenance field");
        assertEquals("legal", ((GenericRecord) old.get("model")).get("name").toString());
    }

    private static GenericRecord oldResults(GenericRecord doc) {
        GenericRecord model = new GenericData.Record(BEFORE.getField("model").schema());
        model.put("name", "legal");
        model.put("version", "1");
        GenericRecord old = new GenericData.Record(BEFORE);
        old.put("query_id", "q");
        old.put("query", "what");
        old.put("results", new GenericData.Array<>(BEFORE.getField("results").schema(), List.of(doc)));
        old.put("model", model);
        old.put("complete", true);
        old.put("candidates_received", 1);
        old.put("duplicates", 0);
        old.put("first_candidate_time", 1L);
        old.put("emitted_time", 2L);
        old.put("scoring_ms", 3L);
        old.put("conflicts", 0);
        return old;
    }

    private static <T> byte[] write(org.apache.avro.io.DatumWriter<T> writer, T datum) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        writer.write(datum, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
