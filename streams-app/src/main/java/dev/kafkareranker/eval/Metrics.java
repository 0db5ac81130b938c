package dev.kafkareranker.eval;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Ranking metrics of one query, as trec_eval and BEIR compute them.
 *
 * <ul>
 *   <li>NDCG@n: DCG = sum over ranks i = 1..n of rel(i) / log2(i + 1), with the judged grade as gain
 *       (0 for unjudged or negative grades); divided by the DCG of the ideal ranking, the judged grades
 *       sorted best first.</li>
 *   <li>MRR@n: 1 / the rank of the first relevant (grade above 0) document within the top n, else 0.</li>
 *   <li>Recall@k: relevant documents in the top k / all relevant documents of the query.</li>
 * </ul>
 * A query without a relevant document has none of these defined; {@link #of} then returns null and
 * it is left out of averages (trec_eval does the same).
 */
public final class Metrics {

    /** The cut-off of NDCG and MRR: what a result page shows, and what BEIR and MS MARCO report. */
    public static final int CUTOFF = 10;

    private Metrics() {
    }

    /** One query's scores. */
    public record Scores(double ndcg, double mrr, double recall) {
    }

    /** The three metrics of a ranking (best first), or null when the query has no relevant document. */
    public static Scores of(List<String> ranking, Map<String, Integer> judgements, int k) {
        if (judgements.values().stream().noneMatch(rel -> rel > 0)) {
            return null;
        }
        return new Scores(ndcg(ranking, judgements, CUTOFF), reciprocalRank(ranking, judgements, CUTOFF), recall(ranking, judgements, k));
    }

    public static double ndcg(List<String> ranking, Map<String, Integer> judgements, int n) {
        double dcg = 0;
        for (int i = 0; i < Math.min(n, ranking.size()); i++) {
            dcg += gain(judgements.get(ranking.get(i))) / log2(i + 2);
        }
        List<Integer> ideal = judgements.values().stream().map(Metrics::gain).filter(g -> g > 0)
                .sorted(Comparator.reverseOrder()).toList();
        double idcg = 0;
        for (int i = 0; i < Math.min(n, ideal.size()); i++) {
            idcg += ideal.get(i) / log2(i + 2);
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    public static double reciprocalRank(List<String> ranking, Map<String, Integer> judgements, int n) {
        for (int i = 0; i < Math.min(n, ranking.size()); i++) {
            if (gain(judgements.get(ranking.get(i))) > 0) {
                return 1.0 / (i + 1);
            }
        }
        return 0;
    }

    public static double recall(List<String> ranking, Map<String, Integer> judgements, int k) {
        long relevant = judgements.values().stream().filter(rel -> rel > 0).count();
        if (relevant == 0) {
            return 0;
        }
        long found = ranking.stream().limit(k).filter(doc -> gain(judgements.get(doc)) > 0).count();
        return (double) found / relevant;
    }

    /** Mean of each metric over the queries given; an average of nothing is an error, not a zero. */
    public static Scores mean(List<Scores> perQuery) {
        if (perQuery.isEmpty()) {
            throw new IllegalArgumentException("no query to average: none has a relevant document");
        }
        return new Scores(
                perQuery.stream().mapToDouble(Scores::ndcg).average().orElse(0),
                perQuery.stream().mapToDouble(Scores::mrr).average().orElse(0),
                perQuery.stream().mapToDouble(Scores::recall).average().orElse(0));
    }

    private static int gain(Integer grade) {
        return grade == null ? 0 : Math.max(grade, 0);
    }

    private static double log2(int x) {
        return Math.log(x) / Math.log(2);
    }
}
