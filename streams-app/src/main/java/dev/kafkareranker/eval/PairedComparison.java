package dev.kafkareranker.eval;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.commons.statistics.inference.TTest;
import org.apache.commons.statistics.inference.WilcoxonSignedRankTest;

/**
 * Whether reranking changed a metric by more than chance, query by query: the mean paired difference, a 95%
 * percentile-bootstrap interval on it, Wilcoxon's signed-rank test (Commons Statistics: zeros by the signed-rank
 * zero procedure, ties corrected, exact p-value for small samples without ties) and the paired t-test. Both tests
 * are two-sided. IR evaluations report one of these two tests; with few queries neither can tell a real difference
 * from the luck of which queries were drawn, which is what the interval shows.
 *
 * @param queries        paired observations
 * @param meanDifference mean of after − before
 * @param low            2.5th percentile of the bootstrap means
 * @param high           97.5th percentile of the bootstrap means
 * @param wilcoxonP      Wilcoxon signed-rank p-value; 1 when no query changed, NaN with fewer than 2 queries
 * @param tTestP         paired t-test p-value; NaN when it is undefined (fewer than 2 queries, or every difference equal)
 * @param better         queries whose metric went up
 * @param worse          queries whose metric went down
 */
public record PairedComparison(int queries, double meanDifference, double low, double high, double wilcoxonP, double tTestP,
                               int better, int worse) {

    /** Resamples of the bootstrap: the interval's ends move by well under 0.001 between seeds at this count. */
    static final int RESAMPLES = 10_000;
    /** Fixed, so the same run prints the same interval. */
    static final long SEED = 42;
    /** Below this many queries the report warns that the figures cannot tell a difference from chance. */
    public static final int FEW_QUERIES = 20;

    public static PairedComparison of(double[] before, double[] after) {
        if (before.length != after.length || before.length == 0) {
            throw new IllegalArgumentException("paired samples of equal, non-zero length expected: " + before.length + " and " + after.length);
        }
        int n = before.length;
        double[] diff = new double[n];
        int better = 0;
        int worse = 0;
        for (int i = 0; i < n; i++) {
            diff[i] = after[i] - before[i];
            better += diff[i] > 0 ? 1 : 0;
            worse += diff[i] < 0 ? 1 : 0;
        }
        double[] interval = bootstrap(diff);
        return new PairedComparison(n, Arrays.stream(diff).average().orElseThrow(), interval[0], interval[1], wilcoxon(diff),
                tTest(before, after), better, worse);
    }

    private static double wilcoxon(double[] diff) {
        if (diff.length < 2) {
            return Double.NaN;
        }
        if (Arrays.stream(diff).allMatch(d -> d == 0)) {
            return 1.0;
        }
        return WilcoxonSignedRankTest.withDefaults().test(diff).getPValue();
    }

    private static double tTest(double[] before, double[] after) {
        try {
            double p = TTest.withDefaults().pairedTest(after, before).getPValue();
            return Double.isFinite(p) ? p : Double.NaN;
        } catch (IllegalArgumentException e) {
            // Fewer than 2 pairs, or no variance in the differences: the t statistic is undefined.
            return Double.NaN;
        }
    }

    /**
     * The percentile bootstrap of the mean difference. Written here because no well-kept Java library offers it
     * (Commons Statistics has the tests, not resampling): it is a loop over resamples and two order statistics.
     */
    private static double[] bootstrap(double[] diff) {
        SplittableRandom random = new SplittableRandom(SEED);
        double[] means = new double[RESAMPLES];
        int n = diff.length;
        for (int r = 0; r < RESAMPLES; r++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += diff[random.nextInt(n)];
            }
            means[r] = sum / n;
        }
        Arrays.sort(means);
        return new double[] {means[(int) Math.floor(0.025 * (RESAMPLES - 1))], means[(int) Math.ceil(0.975 * (RESAMPLES - 1))]};
    }

    public int unchanged() {
        return queries - better - worse;
    }

    /** Whether the Wilcoxon test calls the difference more than chance at the 5% level. */
    public boolean significant() {
        return wilcoxonP < 0.05;
    }

    /** Two lines for the table: the difference with its interval and tests, then the verdict in words. */
    public String describe(String metric) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "%s difference %+.4f, 95%% bootstrap interval [%+.4f, %+.4f]; Wilcoxon signed-rank p=%s, paired t-test p=%s%n",
                metric, meanDifference, low, high, p(wilcoxonP), p(tTestP)));
        out.append(String.format(Locale.ROOT, "%d queries: %d better, %d worse, %d unchanged: %s%n", queries, better, worse, unchanged(),
                Double.isNaN(wilcoxonP) ? "too few to test"
                        : significant() ? "a difference beyond chance (p < 0.05)" : "not distinguishable from chance (p >= 0.05)"));
        if (queries < FEW_QUERIES) {
            out.append(String.format(Locale.ROOT, "WARNING: only %d queries: too few to tell most differences from chance; evaluate"
                    + " %d or more (--queries, or a larger collection)%n", queries, FEW_QUERIES));
        }
        return out.toString();
    }

    private static String p(double p) {
        return Double.isNaN(p) ? "n/a" : p < 0.0001 ? String.format(Locale.ROOT, "%.1e", p) : String.format(Locale.ROOT, "%.4f", p);
    }
}
