package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.BufferedReader;
import java.io.StringReader;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** produce's input: score's shape or one candidate per line, each turned into candidates with candidate_count set. */
class CandidateLinesTest {

    private final AtomicInteger ids = new AtomicInteger();

    private List<RetrievalCandidate> read(Optional<String> queryId, String... lines) throws Exception {
        return new CandidateLines(queryId, () -> "new-" + ids.incrementAndGet())
                .read(new BufferedReader(new StringReader(String.join("\n", lines))));
    }

    @Test
    void aQueryInScoresShapeBecomesOneCandidatePerDocumentWithCountRankAndANewId() throws Exception {
        List<RetrievalCandidate> out = read(Optional.empty(), "{\"query\":\"why do cats purr\",\"documents\":[\"Cats purr.\",\"Dogs bark.\"]}");
        assertEquals(2, out.size());
        for (int i = 0; i < 2; i++) {
            RetrievalCandidate c = out.get(i);
            assertEquals("new-1", c.getQueryId());
            assertEquals("why do cats purr", c.getQuery());
            assertEquals("d" + (i + 1), c.getDocId());
            assertEquals(i + 1, c.getRetrievalRank());
            assertEquals(2, c.getCandidateCount());
        }
        assertEquals("Dogs bark.", out.get(1).getText());
    }

    @Test
    void queryIdOptionNamesTheQueryWithoutOneAndALineIdWins() throws Exception {
        List<RetrievalCandidate> out = read(Optional.of("mine"), "{\"query\":\"a\",\"document\":\"x\"}",
                "{\"query_id\":\"theirs\",\"query\":\"b\",\"documents\":[{\"doc_id\":\"p7\",\"text\":\"y\",\"retrieval_score\":1.5}]}");
        assertEquals("mine", out.get(0).getQueryId());
        assertEquals(1, out.get(0).getCandidateCount());
        assertEquals("theirs", out.get(1).getQueryId());
        assertEquals("p7", out.get(1).getDocId());
        assertEquals(1.5, out.get(1).getRetrievalScore());
    }

    @Test
    void candidateLinesCountTheirQuerysDistinctDocumentsUnlessALineSaysSo() throws Exception {
        List<RetrievalCandidate> out = read(Optional.empty(),
                "{\"query_id\":\"q1\",\"query\":\"a\",\"doc_id\":\"1\",\"text\":\"x\",\"metadata\":{\"src\":\"bm25\"},\"event_time\":1000}",
                "{\"query_id\":\"q1\",\"query\":\"a\",\"doc_id\":\"2\",\"text\":\"y\"}",
                "{\"query_id\":\"q2\",\"query\":\"b\",\"doc_id\":\"1\",\"text\":\"z\",\"candidate_count\":5,\"top_k\":3,\"model\":\"m\"}");
        assertEquals(2, out.get(0).getCandidateCount());
        assertEquals(2, out.get(1).getCandidateCount());
        assertEquals("bm25", out.get(0).getMetadata().get("src"));
        assertEquals(1000L, out.get(0).getEventTime().toEpochMilli());
        assertEquals(5, out.get(2).getCandidateCount());
        assertEquals(3, out.get(2).getTopK());
        assertEquals("m", out.get(2).getModel());
    }

    @Test
    void mistakesNameTheLine() {
        IllegalArgumentException notJson = assertThrows(IllegalArgumentException.class, () -> read(Optional.empty(), "{\"query\":\"a\",\"document\":\"x\"}", "{nope"));
        assertTrue(notJson.getMessage().startsWith("line 2"), notJson.getMessage());
        IllegalArgumentException noText = assertThrows(IllegalArgumentException.class,
                () -> read(Optional.empty(), "{\"query_id\":\"q\",\"query\":\"a\",\"doc_id\":\"1\"}"));
        assertTrue(noText.getMessage().contains("\"text\""), noText.getMessage());
        IllegalArgumentException twoQueries = assertThrows(IllegalArgumentException.class,
                () -> read(Optional.of("one"), "{\"query\":\"a\",\"document\":\"x\"}", "{\"query\":\"b\",\"document\":\"y\"}"));
        assertTrue(twoQueries.getMessage().contains("--query-id"), twoQueries.getMessage());
    }
}
