package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelDirectory.Variant;
import dev.kafkareranker.model.ModelSpec;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The int8 (dynamically quantized) variants against the fp32 golden scores. Stated tolerance: every
 * score within 0.1 of the reference, and, among each query's golden top 3 (queries with three or more
 * candidates), every order that int8's own error cannot explain is kept: two candidates whose golden scores
 * are more than twice the fixture's largest int8 score error apart keep their order. Queries are scored one at
 * a time: dynamic quantization picks one scale per batch, so a fixed batch composition keeps the test repeatable.
 *
 * <p>Random weights put some candidates within 1e-3 of each other (xlmr-nli-3label's first query: 0.0011,
 * against an int8 error of 0.02; gte-vi-legal's: 0.0001), where int8 may swap them and the ranking is a coin
 * toss in fp32 as much as in int8; a fixed rule rather than a list of excused fixtures, so a swap of two
 * well-separated candidates still fails. Every fixture but gte-vi-legal (see below) must have such an order to check. llama-causal-lm is not here: dynamic int8 of a 32-wide LLaMA's yes/no
 * logits is not a usable approximation (its export writes no int8); causal-LM rerankers are for fp16 on a GPU.
 */
class Int8VariantTest {

    @ParameterizedTest
    @ValueSource(strings = {"bert-cross-encoder", "roberta-lora", "xlmr-vi-legal", "xlmr-nli-3label", "llama-decoder", "bi-encoder",
            "gte-vi-legal", "qwen3-causal-lm"})
    void int8ScoresStayNearTheReference(String fixture) throws Exception {
        ModelSpec spec = ModelDirectory.load(FixtureParityTest.FIXTURES.resolve(fixture));
        List<FixtureParityTest.Pair> pairs = FixtureParityTest.golden(fixture);
        try (InferenceEngine engine = Scorers.open(spec, FixtureParityTest.options().withVariant(Variant.INT8))) {
            assertTrue(engine.executionProvider().startsWith("CPU"));
            Map<FixtureParityTest.Pair, Score> scores = new java.util.HashMap<>();
            for (List<FixtureParityTest.Pair> group : FixtureParityTest.byQuery(pairs).values()) {
                List<Score> s = engine.score(group.get(0).query(), group.stream().map(FixtureParityTest.Pair::document).toList());
                for (int i = 0; i < group.size(); i++) {
                    scores.put(group.get(i), s.get(i));
                }
            }
            double worst = 0;
            for (FixtureParityTest.Pair p : pairs) {
                worst = Math.max(worst, Math.abs(p.score() - scores.get(p).score()));
            }
            int sameOrder = 0;
            int groups = 0;
            int separable = 0;
            for (List<FixtureParityTest.Pair> group : FixtureParityTest.byQuery(pairs).values()) {
                if (group.size() < 3) {
                    continue;
                }
                groups++;
                List<Double> golden = group.stream().map(FixtureParityTest.Pair::score).toList();
                List<Double> int8 = group.stream().map(p -> scores.get(p).score()).toList();
                List<Integer> top3 = order(golden).subList(0, 3);
                sameOrder += top3.equals(order(int8).subList(0, 3)) ? 1 : 0;
                for (int a = 0; a < 3; a++) {
                    for (int b = a + 1; b < 3; b++) {
                        int hi = top3.get(a);
                        int lo = top3.get(b);
                        if (golden.get(hi) - golden.get(lo) > 2 * worst) {
                            separable++;
                            assertTrue(int8.get(hi) > int8.get(lo), fixture + ": int8 swapped two candidates " + (golden.get(hi) - golden.get(lo))
                                    + " apart in the golden scores, more than twice its largest error " + worst);
                        }
                    }
                }
            }
            System.out.printf("int8 %s: max |score - golden| = %.4f, top-3 order kept in %d of %d queries, %d separable orders kept%n",
                    fixture, worst, sameOrder, groups, separable);
            assertTrue(worst <= 0.1, fixture + ": int8 scores drift " + worst + " from the reference");
            if (!fixture.equals("gte-vi-legal")) {
                // gte-vi-legal's random head puts each query's top 3 within 0.0013 of each other in score (logits
                // -3.77 to -3.97, where sigmoid is flat), under twice its int8 error: it is held to the score tolerance.
                assertTrue(separable > 0, fixture + ": no top-3 candidates far enough apart to check an order");
            }
        }
    }

    private static List<Integer> order(List<Double> scores) {
        return IntStream.range(0, scores.size()).boxed().sorted((a, b) -> Double.compare(scores.get(b), scores.get(a))).toList();
    }
}
