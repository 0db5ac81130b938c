package dev.kafkareranker.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** BM25 over the in-memory index, with EnglishAnalyzer's stemming and stop words. */
class Bm25RetrieverTest {

    private static final Map<String, String> DOCS = new LinkedHashMap<>();

    static {
        DOCS.put("d1", "The crystalline lenses of vertebrates, including fish and humans.");
        DOCS.put("d2", "Fetal plasma glucose levels at delivery correlate with maternal levels.");
        DOCS.put("d3", "Electron microscopy of the lung and bronchi.");
        DOCS.put("d4", "Lens opacity in the elderly: cataract surgery outcomes.");
    }

    @Test
    void ranksMatchingDocumentsBestFirstWithRanksFromOne() {
        try (Bm25Retriever bm25 = Bm25Retriever.index(DOCS)) {
            List<Bm25Retriever.Hit> hits = bm25.search("the crystalline lens in vertebrates", 10);

            assertEquals(List.of("d1", "d4"), hits.stream().map(Bm25Retriever.Hit::docId).toList());
            assertEquals(List.of(1, 2), hits.stream().map(Bm25Retriever.Hit::rank).toList());
            assertTrue(hits.get(0).score() > hits.get(1).score());
            assertEquals(4, bm25.documentCount());
        }
    }

    @Test
    void stemmingMatchesInflectedFormsAndStopWordsMatchNothing() {
        try (Bm25Retriever bm25 = Bm25Retriever.index(DOCS)) {
            // Porter stems "correlations" and d2's "correlate" alike, "correl"; "the" and "of" occur in
            // d1 and d3 but are stop words
            assertEquals(List.of("d2"), bm25.search("correlations", 10).stream().map(Bm25Retriever.Hit::docId).toList());
            assertTrue(bm25.search("the of and", 10).isEmpty(), "a query of stop words only retrieves nothing");
        }
    }

    @Test
    void returnsAtMostKHits() {
        try (Bm25Retriever bm25 = Bm25Retriever.index(DOCS)) {
            assertEquals(1, bm25.search("levels lens lung", 1).size());
            assertEquals(3, bm25.search("levels lens lung", 10).size());
        }
    }

    @Test
    void queryCharactersThatAreLuceneSyntaxAreJustText() {
        try (Bm25Retriever bm25 = Bm25Retriever.index(DOCS)) {
            assertEquals("d3", bm25.search("lung: (electron -microscopy) \"bronchi", 10).get(0).docId());
        }
    }
}
