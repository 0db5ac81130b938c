package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Batches planned for the seed models' real shapes stay within the device memory they are given, and an
 * allocation failure narrows later batches of its width so that it is not repeated.
 *
 * <p>The shapes are the public configs of the seed models' bases:
 * <ul>
 *   <li>gte-multilingual-reranker-base: transformers' native GteConfig ("a GTE Alibaba-NLP/gte-multilingual-base
 *       style configuration", models/gte/modular_gte.py: BertConfig's 12 layers, hidden 768, 12 heads,
 *       intermediate 3072, with vocab 250,048 and 8,192 positions); the model card states 306M parameters and
 *       8,192 input tokens (huggingface.co/Alibaba-NLP/gte-multilingual-reranker-base).</li>
 *   <li>roberta-large: huggingface.co/FacebookAI/roberta-large config.json: 24 layers, hidden 1,024, 16 heads,
 *       intermediate 4,096, vocab 50,265, 514 positions (512 tokens).</li>
 *   <li>LLaMA-7B (MedAlpaca-7B's base): huggingface.co/huggyllama/llama-7b config.json: 32 layers, hidden 4,096,
 *       32 heads, intermediate 11,008, vocab 32,000, 2,048 positions.</li>
 * </ul>
 * Weights: parameters x 2 bytes in fp16 (306M, 355M, 6.74B).
 */
class MemoryAwareSizerTest {

    record Seed(String name, ModelShape shape, int maxLength, long fp16WeightBytes, boolean causalLm) {}

    static final Seed GTE = new Seed("gte-multilingual-reranker-base",
            new ModelShape(12, 768, 12, 3072, 250_048, "gte"), 8192, 612_000_000L, false);
    static final Seed ROBERTA_LARGE = new Seed("roberta-large",
            new ModelShape(24, 1024, 16, 4096, 50_265, "roberta-large"), 512, 710_000_000L, false);
    static final Seed LLAMA_7B = new Seed("llama-7b",
            new ModelShape(32, 4096, 32, 11_008, 32_000, "llama-7b"), 2048, 13_480_000_000L, true);
    static final List<Seed> SEEDS = List.of(GTE, ROBERTA_LARGE, LLAMA_7B);

    private static MemoryAwareSizer gpuSizer(Seed seed, long deviceBytes, boolean tensorRt) {
        long budget = MemoryAwareSizer.batchBudget(deviceBytes, seed.fp16WeightBytes());
        return new MemoryAwareSizer(seed.name(), InferenceOptions.CUDA_MAX_ROWS, InferenceOptions.CUDA_MAX_TOKENS,
                InferenceOptions.CUDA_MAX_PADDING_RATIO, seed.maxLength(), Optional.of(new BatchMemory(seed.shape(), 2, seed.causalLm())),
                budget, tensorRt);
    }

    private static int[] rowsOf(int count, int width) {
        int[] lengths = new int[count];
        Arrays.fill(lengths, width);
        return lengths;
    }

    private static int width(int[] batch, int[] lengths) {
        return Arrays.stream(batch).map(i -> lengths[i]).max().orElseThrow();
    }

    @Test
    void everySeedsBatchAtItsMaximumLengthFitsTheDefaultBudgetOfA24GbCard() {
        System.out.println("seed | max length | rows per batch | attention | activations | budget (22 GiB card, fp16 weights)");
        for (Seed seed : SEEDS) {
            MemoryAwareSizer sizer = gpuSizer(seed, GpuOptions.DEFAULT_MEMORY_BYTES, false);
            BatchMemory memory = sizer.memory().orElseThrow();
            int[] lengths = rowsOf(300, seed.maxLength());
            List<int[]> batches = sizer.plan(lengths);
            int rows = batches.get(0).length;
            for (int[] batch : batches) {
                long bytes = memory.bytes(batch.length, seed.maxLength());
                assertTrue(bytes <= sizer.budget(), seed.name() + ": " + batch.length + " rows take " + bytes + " > budget " + sizer.budget());
            }
            assertTrue(rows >= 1 && sizer.budget() > 0, seed.name());
            System.out.printf("%s | %d | %d | %s | %s | %s%n", seed.name(), seed.maxLength(), rows,
                    MemoryAwareSizer.gib(memory.attentionBytes(rows, seed.maxLength())),
                    MemoryAwareSizer.gib(memory.activationBytes(rows, seed.maxLength())), MemoryAwareSizer.gib(sizer.budget()));
        }
    }

    @Test
    void gteAtEightThousandTokensNoLongerGetsTheEightRowsTheTokenBudgetAlone_Allowed() {
        // 65,536 tokens / 8,192 = 8 rows: 8 x 12 x 8,192^2 scores in fp16 are 12.9 GB per tensor.
        assertEquals(8, BatchPlanner.plan(rowsOf(8, 8192), InferenceOptions.CUDA_MAX_ROWS, InferenceOptions.CUDA_MAX_TOKENS).get(0).length);
        MemoryAwareSizer sizer = gpuSizer(GTE, GpuOptions.DEFAULT_MEMORY_BYTES, false);
        int rows = sizer.plan(rowsOf(8, 8192)).get(0).length;
        assertTrue(rows < 8, "rows " + rows);
        assertEquals(3, rows, "3 x (12 x 8,192^2 x 3 x 2 B + activations) fits 16.6 GiB, 4 does not");
    }

    @Test
    void aLargerCardPlansLargerBatchesForTheSameModel() {
        for (Seed seed : List.of(GTE, LLAMA_7B)) {
            int small = gpuSizer(seed, GpuOptions.DEFAULT_MEMORY_BYTES, false).plan(rowsOf(64, seed.maxLength())).get(0).length;
            int large = gpuSizer(seed, 80L << 30, false).plan(rowsOf(64, seed.maxLength())).get(0).length;
            assertTrue(large > small, seed.name() + ": " + large + " rows on 80 GiB, " + small + " on 22 GiB");
        }
    }

    @Test
    void shortRowsAreStillBoundedByTheTokenBudgetAndRowCapNotByMemory() {
        MemoryAwareSizer sizer = gpuSizer(ROBERTA_LARGE, GpuOptions.DEFAULT_MEMORY_BYTES, false);
        assertEquals(128, sizer.plan(rowsOf(300, 512)).get(0).length, "65,536 tokens / 512");
        assertEquals(InferenceOptions.CUDA_MAX_ROWS, sizer.plan(rowsOf(300, 40)).get(0).length, "the row cap");
    }

    @Test
    void weightsLargerThanTheDeviceLeaveOneRowPerBatch() {
        assertEquals(0, MemoryAwareSizer.batchBudget(GpuOptions.DEFAULT_MEMORY_BYTES, 2 * LLAMA_7B.fp16WeightBytes()), "fp32 7B on 22 GiB");
        MemoryAwareSizer sizer = new MemoryAwareSizer("fp32-7b", 256, 65_536, 1.5, 2048,
                Optional.of(new BatchMemory(LLAMA_7B.shape(), 4, true)), 0, false);
        assertTrue(sizer.plan(rowsOf(5, 2048)).stream().allMatch(b -> b.length == 1));
    }

    /**
     * A device that holds less than the estimate says (another process took memory, or the estimate is low):
     * a batch above its real capacity fails, the engine retries its two halves, and the sizer is told of both.
     */
    @Test
    void anAllocationFailureFailsExactlyOneBatchAndLaterBatchesOfThatWidthAreSmaller() {
        MemoryAwareSizer sizer = gpuSizer(LLAMA_7B, GpuOptions.DEFAULT_MEMORY_BYTES, false);
        int planned = sizer.plan(rowsOf(64, 2048)).get(0).length;
        assertTrue(planned >= 4, "planned " + planned);
        int capacity = planned - 1;
        int failures = 0;
        int failedRows = 0;
        List<Integer> after = new ArrayList<>();
        Random random = new Random(7);
        for (int round = 0; round < 400; round++) {
            // Mostly long rows, some short ones whose class must not be narrowed.
            int[] lengths = random.ints(3 * planned, 1, 4).map(i -> i == 1 ? 100 : 2048).toArray();
            for (int[] batch : sizer.plan(lengths)) {
                int width = width(batch, lengths);
                if (width == 2048 && batch.length > capacity) {
                    failures++;
                    failedRows = batch.length;
                    sizer.allocationFailed(batch.length, width);
                    int half = batch.length / 2;
                    sizer.ran(half, width);
                    sizer.ran(batch.length - half, width);
                    // The batcher plans what is left of its pool again; this plan's other batches were sized before the failure.
                    break;
                } else {
                    if (width == 2048 && failures > 0) {
                        after.add(batch.length);
                    }
                    sizer.ran(batch.length, width);
                }
            }
        }
        assertEquals(1, failures, "one batch failed, not every full one");
        assertEquals(planned, failedRows);
        int failedSize = failedRows;
        assertTrue(after.stream().allMatch(rows -> rows < failedSize), "later batches of 2,048 tokens are smaller: " + after);
        assertEquals(planned / 2, (int) after.get(0), "first halved");
        assertEquals(planned - 1, sizer.rowCapAt(2048), "grew back, slowly, after full batches ran, to just below what failed");
        assertTrue(after.stream().filter(rows -> rows == planned / 2).count() >= MemoryAwareSizer.RECOVERY_RUNS, "slowly");
        assertEquals(Math.min(InferenceOptions.CUDA_MAX_ROWS, InferenceOptions.CUDA_MAX_TOKENS / 100),
                sizer.plan(rowsOf(1000, 100)).get(0).length, "another width class is not narrowed");
    }

    @Test
    void withoutAShapeThePlansAreTheTokenBudgetsUntilAFailure() {
        Random random = new Random(3);
        for (int trial = 0; trial < 100; trial++) {
            int[] lengths = random.ints(1 + random.nextInt(300), 1, 512).toArray();
            MemoryAwareSizer sizer = new MemoryAwareSizer("cpu", 32, 8192, 1.1, 512, Optional.empty(), 0, false);
            List<int[]> expected = BatchPlanner.plan(lengths, 32, 8192, 1.1);
            List<int[]> actual = sizer.plan(lengths);
            assertEquals(expected.size(), actual.size());
            for (int i = 0; i < expected.size(); i++) {
                assertTrue(Arrays.equals(expected.get(i), actual.get(i)), "batch " + i);
            }
        }
        MemoryAwareSizer sizer = new MemoryAwareSizer("cpu", 32, 8192, 1.1, 512, Optional.empty(), 0, false);
        sizer.allocationFailed(16, 500);
        assertEquals(8, sizer.plan(rowsOf(32, 500)).get(0).length, "a CPU learns from a failure too");
    }

    @Test
    void underTensorRtEveryBatchStaysInTheOneShapeProfile() {
        for (Seed seed : SEEDS) {
            MemoryAwareSizer sizer = gpuSizer(seed, GpuOptions.DEFAULT_MEMORY_BYTES, true);
            MemoryAwareSizer.ShapeProfile box = sizer.tensorRtProfile();
            assertEquals(seed.maxLength(), box.width());
            Random random = new Random(11);
            int[] lengths = random.ints(2000, 1, seed.maxLength() + 1).toArray();
            for (int[] batch : sizer.plan(lengths)) {
                assertTrue(batch.length <= box.rows(), seed.name() + ": " + batch.length + " rows outside the profile's " + box.rows());
            }
            assertTrue(sizer.memory().orElseThrow().bytes(box.rows(), box.width()) <= sizer.budget(), seed.name());
        }
        assertEquals(128, gpuSizer(ROBERTA_LARGE, GpuOptions.DEFAULT_MEMORY_BYTES, true).tensorRtProfile().rows());
    }

    @Test
    void theSeedsConfigShapesAreReadFromConfigJson() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("shape");
        java.nio.file.Path config = dir.resolve("config.json");
        java.nio.file.Files.writeString(config, "{\"model_type\":\"llama\",\"hidden_size\":4096,\"intermediate_size\":11008,"
                + "\"num_attention_heads\":32,\"num_hidden_layers\":32,\"num_key_value_heads\":32,\"vocab_size\":32000,"
                + "\"max_position_embeddings\":2048}");
        assertEquals(new ModelShape(32, 4096, 32, 11_008, 32_000, config.toString()), ModelShape.read(config).orElseThrow());
        java.nio.file.Files.writeString(config, "{\"model_type\":\"gpt2\",\"n_embd\":768,\"n_head\":12,\"n_layer\":12,\"n_inner\":null}");
        assertEquals(new ModelShape(12, 768, 12, 3072, 0, config.toString()), ModelShape.read(config).orElseThrow(), "GPT-2 keys, 4 x hidden");
        java.nio.file.Files.writeString(config, "{\"model_type\":\"custom\"}");
        assertTrue(ModelShape.read(config).isEmpty(), "no hidden size or heads: no memory bound");
        assertTrue(ModelShape.read(dir.resolve("absent.json")).isEmpty());
    }
}
