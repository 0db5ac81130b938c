package dev.kafkareranker.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** eval's paired comparison: the tests' p-values where they are known exactly, the interval, the verdict and the warning. */
class PairedComparisonTest {

    @Test
    void tenQueriesAllBetterHaveTheExactWilcoxonPOfTwoOutOf1024() {
        double[] before = new double[10];
        double[] after = new double[10];
        for (int i = 0; i < 10; i++) {
            before[i] = 0.5;
            after[i] = 0.5 + 0.01 * (i + 1);
        }
        PairedComparison c = PairedComparison.of(before, after);
        // Every sign positive, distinct magnitudes, no zero: the one most extreme of 2^10 sign patterns, either side.
        assertEquals(2.0 / 1024, c.wilcoxonP(), 1e-12);
        assertEquals(0.055, c.meanDifference(), 1e-12);
        assertTrue(c.low() > 0 && c.low() <= c.meanDifference() && c.meanDifference() <= c.high(), c.toString());
        assertTrue(c.tTestP() < 0.001, c.toString());
        assertEquals(10, c.better());
        assertTrue(c.significant());
        assertTrue(c.describe("NDCG@10").contains("WARNING: only 10 queries"), c.describe("NDCG@10"));
    }

    @Test
    void noChangeIsNotADifferenceAndTheIntervalIsZero() {
        double[] same = {0.1, 0.4, 0.9, 0.3};
        PairedComparison c = PairedComparison.of(same, same.clone());
        assertEquals(1.0, c.wilcoxonP());
        assertEquals(0.0, c.low());
        assertEquals(0.0, c.high());
        assertEquals(4, c.unchanged());
        assertFalse(c.significant());
    }

    @Test
    void mixedChangesOnTwentyQueriesAreNotCalledADifferenceAndNeedNoWarning() {
        double[] before = new double[20];
        double[] after = new double[20];
        for (int i = 0; i < 20; i++) {
            before[i] = 0.5;
            after[i] = 0.5 + (i % 2 == 0 ? 0.01 : -0.01) * (1 + i / 2);
        }
        PairedComparison c = PairedComparison.of(before, after);
        assertTrue(c.wilcoxonP() > 0.5, c.toString());
        assertTrue(c.low() < 0 && c.high() > 0, "the interval spans zero: " + c);
        String text = c.describe("NDCG@10");
        assertTrue(text.contains("not distinguishable from chance"), text);
        assertFalse(text.contains("WARNING"), text);
    }

    @Test
    void theSameInputGivesTheSameInterval() {
        double[] before = {0.2, 0.5, 0.3, 0.8, 0.1, 0.6};
        double[] after = {0.4, 0.5, 0.2, 0.9, 0.5, 0.7};
        assertEquals(PairedComparison.of(before, after), PairedComparison.of(before, after));
    }

    @Test
    void theTablePrintsTheTestBesideTheMeansAndTheReportListsWhatMovedMost() throws Exception {
        List<EvalReport.QueryReport> rows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            rows.add(new EvalReport.QueryReport("q" + i, 1, 10, new Metrics.Scores(0.5, 0.5, 1), new Metrics.Scores(0.5 + 0.1 * i, 1, 1)));
        }
        EvalReport report = new EvalReport("toy", Path.of("toy"), CollectionFormat.TREC, 10, 5, 10, "m 1", rows, List.of(), List.of(),
                Metrics.mean(rows.stream().map(EvalReport.QueryReport::bm25).toList()),
                Metrics.mean(rows.stream().map(EvalReport.QueryReport::reranked).toList()), 0, 50, 100, 1, 2, 3);
        String table = report.table();
        assertTrue(table.contains("Wilcoxon signed-rank p=") && table.contains("paired t-test p="), table);
        assertTrue(table.contains("WARNING: only 5 queries"), table);
        assertTrue(table.indexOf("moved most") > table.indexOf("BM25 + rerank"), table);
        assertEquals(List.of("q4", "q3", "q2", "q1"), report.movedMost(5).stream().map(EvalReport.QueryReport::queryId).toList(),
                "largest change first, the unchanged q0 left out");
        var json = report.toJson(new com.fasterxml.jackson.databind.ObjectMapper());
        assertEquals(5, json.get("per_query").size());
        assertEquals(0.9, json.at("/per_query/4/reranked/ndcg@10").asDouble(), 1e-12);
        assertEquals(0.5, json.at("/per_query/4/bm25/ndcg@10").asDouble(), 1e-12);
        assertEquals("q4", json.at("/moved_most/0/query_id").asText());
        assertTrue(json.at("/ndcg@10_difference/few_queries_warning").asBoolean());
    }
}
