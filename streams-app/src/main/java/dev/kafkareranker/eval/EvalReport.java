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
