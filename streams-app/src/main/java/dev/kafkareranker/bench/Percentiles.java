package dev.kafkareranker.bench;

import java.util.Arrays;

/** Nearest-rank percentiles of a sample. */
record Percentiles(double p50, double p95, double p99, double max) {

    static Percentiles of(double[] values) {
        if (values.length == 0) {
            return new Percentiles(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return new Percentiles(rank(sorted, 50), rank(sorted, 95), rank(sorted, 99), sorted[sorted.length - 1]);
    }

    private static double rank(double[] sorted, double percent) {
        int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
