package dev.kafkareranker.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole eval on the MED collection: BM25, a real broker in this JVM, the pipeline with the bundled
 * model, a read_committed consumer. k = 20 keeps it near a minute on two cores (600 pairs); the
 * figures at k = 100 are in docs/quality.md.
 */
class MedEvalTest {

    /** Surefire runs in streams-app/, so this is the shared data beside the repository: ../shared/data/med from its root. */
    private static final Path MED = Path.of("..", "..", "shared", "data", "med");
    private static final int K = 20;
    private static final int MED_QUERIES = 30;

    @TempDir
    static Path tmp;

    private static EvalReport report;
    private static String progress;

    @BeforeAll
    static void runTheEval() throws Exception {
        // The shared data sits beside the repository here and in CI: its absence is a broken checkout, not a reason to skip.
        assertTrue(Files.isRegularFile(MED.resolve("MED.ALL")),
                "the MED collection is not at " + MED.toAbsolutePath().normalize() + " (the shared data beside the repository)");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        EvalOptions options = new EvalOptions(MED, Optional.empty(), K, Optional.empty(), 0);
        report = new EvalRun(options, Map.of("RERANKER_INFERENCE_DEVICE", "cpu"), new PrintStream(err, true, StandardCharsets.UTF_8)).run();
        progress = err.toString(StandardCharsets.UTF_8);
        System.out.print(report.table());
    }

    @Test
    void everyQueryIsRetrievedRerankedAndJudged() {
        assertEquals(CollectionFormat.SMART, report.format(), "detected from MED.ALL, MED.QRY, MED.REL");
        assertEquals(1033, report.documents());
        assertEquals(MED_QUERIES, report.queries());
        assertEquals(MED_QUERIES, report.perQuery().size(), "every MED query has relevant documents");
        assertEquals(List.of(), report.skipped());
        assertEquals(List.of(), report.withoutCandidates());
        assertEquals(0, report.incomplete(), "every query completes on its candidate_count");
        assertEquals((long) MED_QUERIES * K, report.pairsScored());
        for (EvalReport.QueryReport q : report.perQuery()) {
            assertEquals(K, q.candidates(), q.queryId());
        }
    }

    @Test
    void metricsAreProbabilitiesAndBothRankingsAreFarBetterThanChance() {
        for (Metrics.Scores s : List.of(report.bm25(), report.reranked())) {
            assertInUnitInterval(s);
        }
        report.perQuery().forEach(q -> {
            assertInUnitInterval(q.bm25());
            assertInUnitInterval(q.reranked());
        });
        assertTrue(report.bm25().ndcg() > 0.2, "BM25 NDCG@10 " + report.bm25().ndcg());
        assertTrue(report.reranked().ndcg() > 0.2, "reranked NDCG@10 " + report.reranked().ndcg());
    }

    @Test
    void rerankingKeepsEveryCandidateSoRecallAtKIsUnchanged() {
        for (EvalReport.QueryReport q : report.perQuery()) {
            assertEquals(q.bm25().recall(), q.reranked().recall(), 1e-12, q.queryId());
        }
    }

    @Test
    void theProgressBarCountsQueriesToTheTotal() {
        assertTrue(progress.contains("0/" + MED_QUERIES) && progress.contains(MED_QUERIES + "/" + MED_QUERIES), progress);
    }

    @Test
    void theJsonReportHoldsTheSameFigures() throws Exception {
        Path file = tmp.resolve("report.json");
        report.writeJson(file);
        JsonNode json = new ObjectMapper().readTree(file.toFile());

        assertEquals(K, json.get("k").asInt());
        assertEquals(report.bm25().ndcg(), json.at("/metrics/bm25/ndcg@10").asDouble(), 1e-12);
        assertEquals(report.reranked().mrr(), json.at("/metrics/reranked/mrr@10").asDouble(), 1e-12);
        assertEquals(report.reranked().recall(), json.at("/metrics/reranked/recall@" + K).asDouble(), 1e-12);
        assertEquals(MED_QUERIES, json.get("per_query").size());
    }

    @Test
    void theTablePrintsThePairedTestBesideTheMeansAndTheReportHasPerQueryRows() throws Exception {
        String table = report.table();
        assertTrue(table.contains("NDCG@10 difference") && table.contains("Wilcoxon signed-rank p=") && table.contains("moved most"), table);
        assertTrue(!table.contains("WARNING: only"), "30 queries are enough not to warn: " + table);
        Path file = tmp.resolve("per-query.json");
        report.writeJson(file);
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        for (JsonNode row : json.get("per_query")) {
            assertEquals(row.at("/reranked/ndcg@10").asDouble() - row.at("/bm25/ndcg@10").asDouble(), row.get("ndcg@10_difference").asDouble(), 1e-12);
        }
        assertEquals(EvalReport.MOVED_SHOWN, json.get("moved_most").size());
        PairedComparison c = report.ndcgComparison();
        assertEquals(c.wilcoxonP(), json.at("/ndcg@10_difference/wilcoxon_signed_rank_p").asDouble(), 1e-15);
        assertEquals(report.reranked().ndcg() - report.bm25().ndcg(), c.meanDifference(), 1e-12);
    }

    private static void assertInUnitInterval(Metrics.Scores s) {
        for (double v : new double[] {s.ndcg(), s.mrr(), s.recall()}) {
            assertTrue(v >= 0 && v <= 1, s.toString());
        }
    }
}
