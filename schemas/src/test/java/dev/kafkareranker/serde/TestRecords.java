package dev.kafkareranker.serde;

import dev.kafkareranker.avro.ModelInfo;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;

/** Sample records and hand-written schemas shared by the serde tests. */
final class TestRecords {

    static final String CANDIDATE_NAME = "dev.kafkareranker.avro.RetrievalCandidate";

    private TestRecords() {
    }

    /** A candidate with every field set, optional ones included. */
    /** The contract as written: {@code src/main/avro/NAME.avsc}, parsed as any other producer would. */
    static Schema avsc(String name) {
        try {
            return new Schema.Parser().parse(avscText(name));
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot parse " + name + ".avsc", e);
        }
    }

    static String avscText(String name) {
        try {
            // Surefire runs in the module directory.
            return Files.readString(Path.of("src", "main", "avro", name + ".avsc"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RetrievalCandidate fullCandidate() {
        return RetrievalCandidate.newBuilder()
                .setQueryId("q-42")
                .setQuery("what is avro")
                .setDocId("doc-7")
                .setText("Avro is a row-oriented data serialization framework. ünïcödé ✓")
                .setRetrievalScore(12.5)
                .setRetrievalRank(3)
                .setCandidateCount(20)
                .setModel("ms-marco-MiniLM-L-6-v2")
                .setTopK(5)
                .setMetadata(Map.of("source", "bm25", "shard", "2"))
                .setEventTime(Instant.ofEpochMilli(1_700_000_123_456L))
                .build();
    }

    /** A candidate with only the required fields; the optional ones keep their defaults. */
    static RetrievalCandidate minimalCandidate() {
        return RetrievalCandidate.newBuilder()
                .setQueryId("q-1")
                .setQuery("q")
                .setDocId("d")
                .setText("t")
                .build();
    }

    static RankedResults rankedResults() {
        return RankedResults.newBuilder()
                .setQueryId("q-42")
                .setQuery("what is avro")
                .setResults(List.of(
                        RankedDocument.newBuilder().setDocId("doc-7").setScore(0.93).setLogit(2.6).setRank(1)
                                .setRetrievalRank(3).setRetrievalScore(12.5).setMetadata(Map.of("source", "bm25")).build(),
                        RankedDocument.newBuilder().setDocId("doc-1").setScore(0.41).setLogit(-0.36).setRank(2)
                                .setRetrievalRank(null).setRetrievalScore(null).setMetadata(Map.of()).build()))
                .setModel(ModelInfo.newBuilder().setName("ms-marco-MiniLM-L-6-v2").setVersion("1").build())
                .setComplete(false)
                .setCandidatesReceived(2)
                .setCandidatesExpected(20)
                .setFirstCandidateTime(Instant.ofEpochMilli(1_700_000_000_000L))
                .setEmittedTime(Instant.ofEpochMilli(1_700_000_000_250L))
                .setScoringMs(17L)
                .build();
    }

    /** RetrievalCandidate without its required {@code text}: data written with it cannot fill the reader's field. */
    static Schema candidateWithoutText() {
        return SchemaBuilder.record("RetrievalCandidate").namespace("dev.kafkareranker.avro").fields()
                .requiredString("query_id")
                .requiredString("query")
                .requiredString("doc_id")
                .endRecord();
    }

    /** The 1.0 contract: only the four required fields. */
    static Schema candidateV1() {
        return SchemaBuilder.record("RetrievalCandidate").namespace("dev.kafkareranker.avro").fields()
                .requiredString("query_id")
                .requiredString("query")
                .requiredString("doc_id")
                .requiredString("text")
                .endRecord();
    }

    /** The current contract plus an optional field a newer producer added. */
    static Schema candidateWithExtraOptionalField() {
        Schema current = RetrievalCandidate.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field field : current.getFields()) {
            fields.add(new Schema.Field(field, field.schema()));
        }
        fields.add(new Schema.Field("retriever",
                Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                "Added by a newer producer.", JsonProperties.NULL_VALUE));
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }
}
