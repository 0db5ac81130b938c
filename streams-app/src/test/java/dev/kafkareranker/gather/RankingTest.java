package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.inference.Provenance;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Stage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What each ranked entry says: its provenance as scored, and in a cascade its stage, with the model's entries first. */
class RankingTest {

    private static RetrievalCandidate candidate(String docId, int rank) {
        return RetrievalCandidate.newBuilder().setQueryId("q").setQuery("q").setDocId(docId).setText("t").setRetrievalRank(rank)
                .setMetadata(Map.of()).build();
    }

    @Test
    void eachEntryCarriesWhatOfItsPassageWasReadAndNoStageWhenOneModelScoredAll() {
        List<RankedDocument> ranked = Ranking.rank(List.of(candidate("a", 1), candidate("b", 2)),
                List.of(new Score(0.1, 0.3, Optional.of(new Provenance(900, 120, 4, 1_500, 2_010))), new Score(2.0, 0.9)), 0);
        RankedDocument a = ranked.get(1);
        assertEquals("a", a.getDocId());
        assertEquals(900, a.getTokensScored());
        assertEquals(120, a.getTokensCut());
        assertEquals(4, a.getChunks());
        assertEquals(1_500, a.getBestChunkStart());
        assertEquals(2_010, a.getBestChunkEnd());
        assertNull(a.getStage());
        assertNull(a.getFirstStageScore());
        RankedDocument b = ranked.get(0);
        assertNull(b.getTokensScored(), "a scorer that does not say leaves them null");
        assertNull(b.getChunks());
    }

    @Test
    void inACascadeTheModelsEntriesRankAboveTheFirstStagesWhateverTheirScores() {
        List<RetrievalCandidate> candidates = List.of(candidate("cheap-high", 1), candidate("model-low", 2), candidate("model-high", 3),
                candidate("cheap-low", 4));
        List<Score> scores = List.of(
                new Score(3.0, 0.95).staged(new Stage("ce", false, 0.95)),
                new Score(-2.0, 0.12).staged(new Stage("llm", true, 0.97)),
                new Score(1.0, 0.73).staged(new Stage("llm", true, 0.99)),
                new Score(-1.0, 0.27).staged(new Stage("ce", false, 0.27)));
        List<RankedDocument> ranked = Ranking.rank(candidates, scores, 0);
        assertEquals(List.of("model-high", "model-low", "cheap-high", "cheap-low"), ranked.stream().map(RankedDocument::getDocId).toList());
        assertEquals(List.of("llm", "llm", "ce", "ce"), ranked.stream().map(RankedDocument::getStage).toList());
        assertEquals(List.of(0.99, 0.97, 0.95, 0.27), ranked.stream().map(RankedDocument::getFirstStageScore).toList());
        assertEquals(List.of(1, 2, 3, 4), ranked.stream().map(RankedDocument::getRank).toList());
        assertEquals(0.12, ranked.get(1).getScore(), "an entry's score is its stage's");
    }

    @Test
    void topKCutsTheCascadesRankingAsAnyOther() {
        List<RankedDocument> ranked = Ranking.rank(List.of(candidate("cheap", 1), candidate("model", 2)),
                List.of(new Score(9, 0.99).staged(new Stage("ce", false, 0.99)), new Score(0, 0.5).staged(new Stage("llm", true, 0.4))), 1);
        assertEquals(List.of("model"), ranked.stream().map(RankedDocument::getDocId).toList());
    }
}
