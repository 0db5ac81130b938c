package dev.kafkareranker.inference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * Splits sequences into batches: sorted by length, so each batch pads little, bounded by a row cap
 * and a token budget (rows × padded length), so memory per run is bounded whatever the lengths, and
 * by a padding ratio (padded over real tokens), so the long tail of a length distribution does not
 * make one batch compute twice the tokens it holds.
 */
final class BatchPlanner {

    private BatchPlanner() {
    }

    /**
     * Indices into {@code lengths}, grouped into batches. A single sequence longer than the budget
     * still gets a batch of its own: it was already truncated to the model's maximum.
     */
    static List<int[]> plan(int[] lengths, int maxRows, int maxTokens) {
        return plan(lengths, maxRows, maxTokens, Double.POSITIVE_INFINITY);
    }

    static List<int[]> plan(int[] lengths, int maxRows, int maxTokens, double maxPaddingRatio) {
        return plan(lengths, width -> maxRows, maxTokens, maxPaddingRatio);
    }

    /**
     * As above, with a row cap that depends on the batch's padded width ({@code maxRowsAtWidth}): how many rows
     * of that width fit the device's memory (never less than 1).
     */
    static List<int[]> plan(int[] lengths, IntUnaryOperator maxRowsAtWidth, int maxTokens, double maxPaddingRatio) {
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> lengths[i]));
        List<int[]> batches = new ArrayList<>();
        int start = 0;
        while (start < order.length) {
            int end = start + 1;
            long real = lengths[order[start]];
            // Sorted ascending, so the row being added is the longest so far: the padded size is rows × its length.
            while (end < order.length && end - start < maxRowsAtWidth.applyAsInt(lengths[order[end]])) {
                long padded = (long) (end - start + 1) * lengths[order[end]];
                if (padded > maxTokens || padded > maxPaddingRatio * (real + lengths[order[end]])) {
                    break;
                }
                real += lengths[order[end]];
                end++;
            }
            int[] batch = new int[end - start];
            for (int i = start; i < end; i++) {
                batch[i - start] = order[i];
            }
            batches.add(batch);
            start = end;
        }
        return batches;
    }
}
