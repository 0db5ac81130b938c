package dev.kafkareranker.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The metrics on a small example computed by hand.
 *
 * <pre>
 * Query A: ranking a b c d e; judgements a=0 (judged not relevant), b=2, d=1, f=1 (f not retrieved).
 *
 *   DCG@10  = gain(a)/log2(2) + gain(b)/log2(3) + gain(c)/log2(4) + gain(d)/log2(5) + gain(e)/log2(6)
 *           = 0/1 + 2/1.5849625 + 0/2 + 1/2.3219281 + 0
 *           = 1.2618595 + 0.4306766 = 1.6925361
 *   IDCG@10 = grades sorted best first, 2 1 1:
 *             2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5 = 3.1309298
 *   NDCG@10 = 1.6925361 / 3.1309298 = 0.5405858
 *   MRR@10  = first relevant document (b) at rank 2: 1/2 = 0.5
 *   Recall@5 = relevant in the top 5 (b, d) / relevant judged (b, d, f) = 2/3 = 0.6666667
 *   Recall@3 = (b) / 3 = 1/3
 *
 * Query B: ranking x y; judgements y=1.
 *   NDCG@10 = (1/log2(3)) / (1/log2(2)) = 0.6309298;  MRR@10 = 1/2;  Recall@5 = 1/1 = 1
 *
 * Means over A and B: NDCG@10 = (0.5405858 + 0.6309298)/2 = 0.5857578, MRR@10 = 0.5, Recall@5 = (2/3 + 1)/2 = 0.8333333
 * </pre>
 */
class MetricsTest {

    private static final double EPS = 1e-6;
    private static final List<String> RANKING_A = List.of("a", "b", "c", "d", "e");
    private static final Map<String, Integer> JUDGED_A = Map.of("a", 0, "b", 2, "d", 1, "f", 1);

    @Test
    void ndcgUsesGradedGainsAndTheIdealOrderOfAllJudgedDocuments() {
        assertEquals(0.5405858, Metrics.ndcg(RANKING_A, JUDGED_A, 10), EPS);
    }

    @Test
    void reciprocalRankIsOneOverTheRankOfTheFirstRelevantDocument() {
        assertEquals(0.5, Metrics.reciprocalRank(RANKING_A, JUDGED_A, 10), EPS);
        // a judged-not-relevant first document does not count, nor does one past the cut-off
        assertEquals(0.0, Metrics.reciprocalRank(RANKING_A, JUDGED_A, 1), EPS);
    }

    @Test
    void recallCountsRelevantDocumentsInTheTopKAgainstAllRelevantOnes() {
        assertEquals(2.0 / 3, Metrics.recall(RANKING_A, JUDGED_A, 5), EPS);
        assertEquals(1.0 / 3, Metrics.recall(RANKING_A, JUDGED_A, 3), EPS);
    }

    @Test
    void meansAverageEachMetricOverQueries() {
        Metrics.Scores a = Metrics.of(RANKING_A, JUDGED_A, 5);
        Metrics.Scores b = Metrics.of(List.of("x", "y"), Map.of("y", 1), 5);
        assertEquals(0.6309298, b.ndcg(), EPS);
        Metrics.Scores mean = Metrics.mean(List.of(a, b));
        assertEquals(0.5857578, mean.ndcg(), EPS);
        assertEquals(0.5, mean.mrr(), EPS);
        assertEquals(0.8333333, mean.recall(), EPS);
    }

    @Test
    void theIdealRankingScoresOne() {
        Metrics.Scores s = Metrics.of(List.of("b", "d", "f", "a"), JUDGED_A, 3);
        assertEquals(1.0, s.ndcg(), EPS);
        assertEquals(1.0, s.mrr(), EPS);
        assertEquals(1.0, s.recall(), EPS);
    }

    @Test
    void aQueryWithoutRelevantDocumentsHasNoScoresAndCannotBeAveraged() {
        assertNull(Metrics.of(List.of("a"), Map.of("a", 0), 10));
        assertNull(Metrics.of(List.of("a"), Map.of(), 10));
        assertThrows(IllegalArgumentException.class, () -> Metrics.mean(List.of()));
    }

    @Test
    void anEmptyRankingScoresZero() {
        Metrics.Scores s = Metrics.of(List.of(), JUDGED_A, 10);
        assertEquals(0.0, s.ndcg(), EPS);
        assertEquals(0.0, s.mrr(), EPS);
        assertEquals(0.0, s.recall(), EPS);
    }
}
