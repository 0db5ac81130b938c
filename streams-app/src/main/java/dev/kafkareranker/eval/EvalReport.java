package dev.kafkareranker.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What an {@code eval} run found: mean metrics of BM25 alone and after reranking, per-query figures,
 * and timings. Printed as a table ({@link #table()}) and written as JSON ({@link #writeJson}).
 *
 * @param collection         the collection's name (its directory name)
 * @param directory          where it was read from
 * @param format             its layout
 * @param documents          documents indexed
 * @param queries            queries run (after --queries)
 * @param k                  candidates per query and Recall cut-off
 * @param model              the reranker's model name and version, as the results name it
 * @param perQuery           every query that has a relevant document, in collection order
 * @param skipped            ids of queries left out of the averages because no document is judged relevant
 * @param withoutCandidates  ids of queries BM25 found nothing for (not sent to the pipeline; they count as 0)
 * @param bm25               means over {@code perQuery} of BM25's ranking
 * @param reranked           means over {@code perQuery} of the reranked ranking
 * @param incomplete         results the pipeline emitted before all candidates arrived (0 in a healthy run)
 * @param pairsScored        (query, document) pairs the model scored
 * @param scoringMs          model time, summed over queries, as the results report it
 * @param retrievalSeconds   reading the collection, indexing it and running BM25 for every query
 * @param pipelineSeconds    starting the broker and the pipeline, publishing, reranking, collecting
 * @param totalSeconds       the whole run
 */
public record EvalReport(String collection, Path directory, CollectionFormat format, int documents, int queries, int k,
                         String model, List<QueryReport> perQuery, List<String> skipped, List<String> withoutCandidates,
                         Metrics.Scores bm25, Metrics.Scores reranked, int incomplete, long pairsScored, long scoringMs,
                         double retrievalSeconds, double pipelineSeconds, double totalSeconds) {

    /** One query's figures. @param relevant documents judged relevant; @param candidates documents BM25 returned */
    public record QueryReport(String queryId, int relevant, int candidates, Metrics.Scores bm25, Metrics.Scores reranked) {

        /** Reranked minus BM25 NDCG@10. */
        public double ndcgDifference() {
            return reranked.ndcg() - bm25.ndcg();
        }
    }

    public EvalReport {
        perQuery = List.copyOf(perQuery);
        skipped = List.copyOf(skipped);
        withoutCandidates = List.copyOf(withoutCandidates);
    }

    /** The table the command prints. */
    public String table() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "eval: %s (%s) %d documents, %d queries, k=%d, model %s%n",
                collection, format.label(), documents, queries, k, model));
        out.append(String.format(Locale.ROOT, "%-16s %8s %8s %11s%n", "", "NDCG@10", "MRR@10", "Recall@" + k));
        out.append(row("BM25", bm25));
        out.append(row("BM25 + rerank", reranked));
        out.append(ndcgComparison().describe("NDCG@" + Metrics.CUTOFF));
        List<QueryReport> moved = movedMost(MOVED_SHOWN);
        if (!moved.isEmpty()) {
            out.append("moved most, NDCG@" + Metrics.CUTOFF + " BM25 -> reranked:");
            for (QueryReport q : moved) {
                out.append(String.format(Locale.ROOT, " %s (%.3f -> %.3f)", q.queryId(), q.bm25().ndcg(), q.reranked().ndcg()));
            }
            out.append(String.format(Locale.ROOT, "%n"));
        }
        out.append(String.format(Locale.ROOT, "averaged over %d queries", perQuery.size()));
        if (!skipped.isEmpty()) {
            out.append(String.format(Locale.ROOT, "; %d skipped, no relevant document judged: %s", skipped.size(), skipped));
        }
        out.append(String.format(Locale.ROOT, "%n"));
        if (!withoutCandidates.isEmpty()) {
            out.append(String.format(Locale.ROOT, "BM25 found nothing for %d queries (scored 0): %s%n",
                    withoutCandidates.size(), withoutCandidates));
        }
        if (incomplete > 0) {
            out.append(String.format(Locale.ROOT, "WARNING: %d results were emitted incomplete (max wait reached)%n", incomplete));
        }
        out.append(String.format(Locale.ROOT, "eval: seconds=%.1f (BM25 %.1f, pipeline %.1f; model %.1f s for %d pairs)%n",
                totalSeconds, retrievalSeconds, pipelineSeconds, scoringMs / 1000.0, pairsScored));
        return out.toString();
    }

    /** Queries listed as the ones that moved most, in the table and the JSON report. */
    static final int MOVED_SHOWN = 5;

    /** Reranked against BM25 NDCG@10, paired by query. */
    public PairedComparison ndcgComparison() {
        return PairedComparison.of(perQuery.stream().mapToDouble(q -> q.bm25().ndcg()).toArray(),
                perQuery.stream().mapToDouble(q -> q.reranked().ndcg()).toArray());
    }

    /** The {@code n} queries whose NDCG@10 changed most (either way), largest change first; unchanged ones never. */
    public List<QueryReport> movedMost(int n) {
        return perQuery.stream().filter(q -> q.ndcgDifference() != 0)
                .sorted(java.util.Comparator.comparingDouble((QueryReport q) -> -Math.abs(q.ndcgDifference())).thenComparing(QueryReport::queryId))
                .limit(n).toList();
    }

    private String row(String name, Metrics.Scores s) {
        return String.format(Locale.ROOT, "%-16s %8.4f %8.4f %11.4f%n", name, s.ndcg(), s.mrr(), s.recall());
    }

    public void writeJson(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        json.writeValue(file.toFile(), toJson(json));
    }

    ObjectNode toJson(ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        root.put("collection", collection);
        root.put("directory", directory.toAbsolutePath().normalize().toString());
        root.put("format", format.label());
        root.put("documents", documents);
        root.put("queries", queries);
        root.put("queries_evaluated", perQuery.size());
        root.putPOJO("queries_skipped_no_relevant", skipped);
        root.putPOJO("queries_without_candidates", withoutCandidates);
        root.put("k", k);
        root.put("model", model);
        ObjectNode metrics = root.putObject("metrics");
        metrics.set("bm25", scores(json, bm25));
        metrics.set("reranked", scores(json, reranked));
        PairedComparison c = ndcgComparison();
        ObjectNode paired = root.putObject("ndcg@" + Metrics.CUTOFF + "_difference");
        paired.put("mean", c.meanDifference());
        paired.put("bootstrap_95_low", c.low());
        paired.put("bootstrap_95_high", c.high());
        paired.put("wilcoxon_signed_rank_p", c.wilcoxonP());
        paired.put("paired_t_test_p", c.tTestP());
        paired.put("better", c.better());
        paired.put("worse", c.worse());
        paired.put("unchanged", c.unchanged());
        paired.put("few_queries_warning", c.queries() < PairedComparison.FEW_QUERIES);
        var moved = root.putArray("moved_most");
        for (QueryReport q : movedMost(MOVED_SHOWN)) {
            ObjectNode row = moved.addObject();
            row.put("query_id", q.queryId());
            row.put("bm25_ndcg@" + Metrics.CUTOFF, q.bm25().ndcg());
            row.put("reranked_ndcg@" + Metrics.CUTOFF, q.reranked().ndcg());
            row.put("difference", q.ndcgDifference());
        }
        root.put("incomplete_results", incomplete);
        root.put("pairs_scored", pairsScored);
        ObjectNode seconds = root.putObject("seconds");
        seconds.put("total", round(totalSeconds));
        seconds.put("bm25", round(retrievalSeconds));
        seconds.put("pipeline", round(pipelineSeconds));
        seconds.put("model", round(scoringMs / 1000.0));
        var rows = root.putArray("per_query");
        for (QueryReport q : perQuery) {
            ObjectNode row = rows.addObject();
            row.put("query_id", q.queryId());
            row.put("relevant", q.relevant());
            row.put("candidates", q.candidates());
            row.set("bm25", scores(json, q.bm25()));
            row.set("reranked", scores(json, q.reranked()));
            row.put("ndcg@" + Metrics.CUTOFF + "_difference", q.ndcgDifference());
        }
        return root;
    }

    private ObjectNode scores(ObjectMapper json, Metrics.Scores s) {
        ObjectNode node = json.createObjectNode();
        node.put("ndcg@" + Metrics.CUTOFF, s.ndcg());
        node.put("mrr@" + Metrics.CUTOFF, s.mrr());
        node.put("recall@" + k, s.recall());
        return node;
    }

    private static double round(double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }
}
