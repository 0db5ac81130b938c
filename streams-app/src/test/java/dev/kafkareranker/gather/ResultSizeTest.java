package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.ModelInfo;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.serde.AvroSerializer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A result over results.max.bytes loses its lowest-ranked documents, and no more than it must, now that each
 * document may carry its provenance and its stage (about 40 bytes more than a bare one).
 */
class ResultSizeTest {

    private final String scope = "result-size-" + UUID.randomUUID();
    private final AvroSerializer<RankedResults> serializer = serializer(scope);

    private static AvroSerializer<RankedResults> serializer(String scope) {
        AvroSerializer<RankedResults> s = new AvroSerializer<>();
        s.configure(Map.of("schema.registry.url", "mock://" + scope), false);
        return s;
    }

    @AfterEach
    void dropRegistry() {
        dev.kafkareranker.serde.MockSchemaRegistry.drop(scope);
    }

    private static RankedResults result(int documents) {
        List<RankedDocument> docs = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            docs.add(RankedDocument.newBuilder().setDocId("doc-" + i).setScore(1.0 / (i + 1)).setLogit(-i).setRank(i + 1)
                    .setRetrievalRank(i + 1).setRetrievalScore(12.5).setMetadata(Map.of())
                    .setTokensScored(3_000 + i).setTokensCut(1_024).setChunks(16).setBestChunkStart(10_000 + i).setBestChunkEnd(12_000 + i)
                    .setStage(i < 20 ? "medalpaca-7b-reranker" : "gte-ml-reranker-vi-legal").setFirstStageScore(0.5).build());
        }
        return RankedResults.newBuilder().setQueryId("q").setQuery("q").setResults(docs).setModel(new ModelInfo("m", "1"))
                .setComplete(true).setCandidatesReceived(documents).setFirstCandidateTime(Instant.EPOCH).setEmittedTime(Instant.EPOCH)
                .setScoringMs(1).build();
    }

    @Test
    void aResultWithProvenanceAndStagesLosesOnlyAsManyLowestRankedDocumentsAsItMust() {
        Function<RankedResults, byte[]> serialize = r -> serializer.serialize("results", r);
        int whole = serialize.apply(result(100)).length;
        for (int cut : new int[] {1, 7, 40}) {
            // Room for all but the lowest `cut` documents, and the truncated note.
            int maxBytes = serialize.apply(withTruncated(result(100 - cut))).length;
            RankedResults r = result(100);
            byte[] bytes = ResultSize.fit(r, serialize, maxBytes);
            assertTrue(bytes.length <= maxBytes, bytes.length + " > " + maxBytes);
            assertEquals(100 - cut, r.getResults().size(), "from " + whole + " bytes to at most " + maxBytes + ": " + r.getTruncated());
            assertEquals("doc-" + (99 - cut), r.getResults().get(r.getResults().size() - 1).getDocId(), "the lowest ranked went");
            assertTrue(r.getTruncated().contains(cut + " lowest-ranked documents"), r.getTruncated());
        }
    }

    /** The note fit() writes, as long as any it could write here: the room a test's limit must leave for it. */
    private static RankedResults withTruncated(RankedResults r) {
        r.setTruncated("100 lowest-ranked documents (results.max.bytes=100000)");
        return r;
    }

    @Test
    void aDocumentsBytesAreItsEncodingWhateverItCarries() {
        RankedDocument bare = RankedDocument.newBuilder().setDocId("d").setScore(0).setLogit(0).setRank(1).setMetadata(Map.of()).build();
        RankedDocument full = result(1).getResults().get(0);
        long bareBytes = ResultSize.documentBytes(bare);
        assertEquals(8 + 8 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1, bareBytes,
                "doc id (1 + 1), two doubles, rank, two null unions, the empty map, seven null unions");
        assertTrue(ResultSize.documentBytes(full) > bareBytes + 40, "provenance, stage and first-stage score add bytes");
    }
}
