package dev.kafkareranker.bench;

import java.util.Arrays;
import java.util.List;

/**
 * How far int8's scores are from fp32's on the same pairs: per query, whether the top 10 is fp32's in the
 * same order, whether it is the same set, and the absolute score differences over all pairs.
 */
record Int8Agreement(int queries, int sameOrder, int sameSet, double meanAbsError, double maxAbsError) {

    double sameOrderFraction() {
        return (double) sameOrder / queries;
    }

    double sameSetFraction() {
        return (double) sameSet / queries;
    }

    /** Compares two score lists query by query (same queries, same candidate order). */
    static Int8Agreement of(List<double[]> fp32, List<double[]> int8) {
        int sameOrder = 0;
        int sameSet = 0;
        double errorSum = 0;
        double errorMax = 0;
        int scores = 0;
        for (int q = 0; q < fp32.size(); q++) {
            int[] a = top(fp32.get(q), 10);
            int[] b = top(int8.get(q), 10);
            if (Arrays.equals(a, b)) {
                sameOrder++;
            }
            int[] sortedA = a.clone();
            int[] sortedB = b.clone();
            Arrays.sort(sortedA);
            Arrays.sort(sortedB);
            if (Arrays.equals(sortedA, sortedB)) {
                sameSet++;
            }
            for (int i = 0; i < fp32.get(q).length; i++) {
                double error = Math.abs(fp32.get(q)[i] - int8.get(q)[i]);
                errorSum += error;
                errorMax = Math.max(errorMax, error);
                scores++;
            }
        }
        return new Int8Agreement(fp32.size(), sameOrder, sameSet, scores == 0 ? Double.NaN : errorSum / scores, errorMax);
    }

    /** The indices of the {@code k} highest scores, highest first. */
    static int[] top(double[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        int[] out = new int[Math.min(k, order.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = order[i];
        }
        return out;
    }
}
