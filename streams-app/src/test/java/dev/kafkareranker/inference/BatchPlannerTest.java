package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchPlannerTest {

    @Test
    void neverExceedsTheTokenBudgetOrRowCapAndCoversEveryIndexOnce() {
        Random random = new Random(42);
        for (int trial = 0; trial < 200; trial++) {
            int[] lengths = random.ints(1 + random.nextInt(300), 1, 512).toArray();
            int maxRows = 1 + random.nextInt(64);
            int maxTokens = 512 + random.nextInt(8192);
            List<int[]> batches = BatchPlanner.plan(lengths, maxRows, maxTokens);
            boolean[] seen = new boolean[lengths.length];
            for (int[] batch : batches) {
                int longest = Arrays.stream(batch).map(i -> lengths[i]).max().orElseThrow();
                assertTrue(batch.length <= maxRows, "row cap");
                assertTrue((long) batch.length * longest <= maxTokens, "token budget: " + batch.length + " x " + longest);
                for (int i : batch) {
                    assertTrue(!seen[i], "index " + i + " twice");
                    seen[i] = true;
                }
            }
            for (boolean s : seen) {
                assertTrue(s, "every index is planned");
            }
        }
    }

    @Test
    void groupsSimilarLengthsSoThatBatchesPadLittle() {
        int[] lengths = {100, 5, 98, 6, 99, 4};
        List<int[]> batches = BatchPlanner.plan(lengths, 3, 10_000);
        assertEquals(2, batches.size());
        assertEquals(List.of(5, 1, 3), Arrays.stream(batches.get(0)).boxed().toList(), "short ones together, shortest first");
        assertEquals(List.of(2, 4, 0), Arrays.stream(batches.get(1)).boxed().toList());
    }

    @Test
    void aSequenceLongerThanTheBudgetGetsABatchOfItsOwn() {
        List<int[]> batches = BatchPlanner.plan(new int[] {10, 600, 10}, 8, 512);
        assertEquals(2, batches.size());
        assertEquals(List.of(1), Arrays.stream(batches.get(1)).boxed().toList());
    }
}
