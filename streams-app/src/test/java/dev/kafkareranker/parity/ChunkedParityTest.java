package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Provenance;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelOverrides;
import dev.kafkareranker.model.ModelSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Long passages cut into chunks (or cut from the left, or capped) and scored here equal the Python reference
 * (tools/reranker_tools/chunking.py: the same windows from the tokenizer's offsets, each chunk scored by
 * sentence-transformers / transformers in PyTorch fp32) within 1e-4: every chunk's score and logit, and each
 * passage's pooled score and logit, with its provenance (chunks, tokens read and cut, the best chunk's characters)
 * exactly. Passages of several queries share batches, as in the pipeline.
 */
class ChunkedParityTest {

    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"gte-vi-legal", "roberta-lora", "llama-causal-lm", "bi-encoder"})
    void chunkedScoresMatchTheReferenceWithin1e4(String fixture) throws Exception {
        Path dir = FixtureParityTest.FIXTURES.resolve(fixture);
        for (ChunkedGolden.GoldenSet set : ChunkedGolden.read(fixture).sets()) {
            List<FixtureParityTest.Pair> pooled = new ArrayList<>();
            set.passages().forEach(p -> pooled.add(new FixtureParityTest.Pair(p.query(), p.document(), p.logit(), p.score())));
            double worstPooled = 0;
            double worstChunk = 0;
            int chunks = 0;
            try (InferenceEngine engine = Scorers.open(ModelDirectory.load(dir, set.overrides()), FixtureParityTest.options())) {
                Map<FixtureParityTest.Pair, Score> scores = FixtureParityTest.scoreConcurrently(engine, pooled);
                for (int i = 0; i < pooled.size(); i++) {
                    ChunkedGolden.Passage golden = set.passages().get(i);
                    Score s = scores.get(pooled.get(i));
                    String what = fixture + " " + set.name() + " passage " + i;
                    assertEquals(golden.score(), s.score(), TOLERANCE, what + " pooled score");
                    assertEquals(golden.logit(), s.logit(), TOLERANCE, what + " pooled logit");
                    worstPooled = Math.max(worstPooled, Math.max(Math.abs(golden.score() - s.score()), Math.abs(golden.logit() - s.logit())));
                    Provenance p = s.provenance().orElseThrow();
                    assertEquals(golden.chunks().size(), p.chunks(), what + " chunks");
                    if (set.chunked()) {
                        ChunkedGolden.Chunk best = golden.chunks().get(golden.bestChunk());
                        assertEquals(List.of(best.start(), best.end()), List.of(p.start(), p.end()), what + " best chunk's characters");
                        assertEquals(List.of(golden.tokensScored(), golden.tokensCut()), List.of(p.tokensScored(), p.tokensCut()),
                                what + " tokens read and cut");
                    }
                }
                assertTrue(engine.stats().batches() < engine.stats().rows(), "rows were batched");
                // What became of the long passages is counted (rerank_engine_passages_*).
                dev.kafkareranker.inference.EngineStats.Passages counted = engine.stats().passages();
                assertEquals(List.of((long) pooled.size(), set.passages().stream().filter(g -> g.chunks().size() > 1).count(),
                                set.passages().stream().filter(ChunkedGolden.Passage::chunksCut).count()),
                        List.of(counted.scored(), counted.chunked(), counted.overMaxChunks()), fixture + " " + set.name() + " counts");
            }
            // Each chunk alone, as the pair (or prompt) it is: the same model cut nowhere but at the max length.
            ModelOverrides plain = new ModelOverrides("model.test.", set.overrides().maxLength(), Optional.of("truncate"),
                    java.util.OptionalInt.empty(), java.util.OptionalInt.empty(), Optional.empty(), java.util.OptionalInt.empty(),
                    fixture.startsWith("llama") ? Optional.of("right") : set.overrides().truncationSide());
            ModelSpec spec = ModelDirectory.load(dir, plain);
            List<FixtureParityTest.Pair> pieces = new ArrayList<>();
            for (ChunkedGolden.Passage p : set.passages()) {
                for (int c = 0; c < p.chunks().size(); c++) {
                    ChunkedGolden.Chunk chunk = p.chunks().get(c);
                    pieces.add(new FixtureParityTest.Pair(p.query(), p.chunkText(c), chunk.logit(), chunk.score()));
                }
            }
            if (!set.chunked() && fixture.startsWith("llama")) {
                pieces.clear();  // a causal-lm passage cut from the left is a slice the reference chose; the pooled check covers it
            }
            try (InferenceEngine engine = Scorers.open(spec, FixtureParityTest.options())) {
                Map<FixtureParityTest.Pair, Score> scores = pieces.isEmpty() ? Map.of()
                        : FixtureParityTest.scoreConcurrently(engine, distinct(pieces));
                for (FixtureParityTest.Pair piece : pieces) {
                    Score s = scores.get(piece);
                    assertEquals(piece.score(), s.score(), TOLERANCE, fixture + " " + set.name() + " chunk score: " + piece.document());
                    assertEquals(piece.logit(), s.logit(), TOLERANCE, fixture + " " + set.name() + " chunk logit");
                    worstChunk = Math.max(worstChunk, Math.max(Math.abs(piece.score() - s.score()), Math.abs(piece.logit() - s.logit())));
                    chunks++;
                }
            }
            System.out.printf("chunked parity %s %s: %d passages, %d chunks, max |delta| per chunk %.1e, pooled %.1e%n", fixture,
                    set.name(), pooled.size(), chunks, worstChunk, worstPooled);
        }
    }

    /** Pairs as map keys: a chunk that repeats (a passage scored whole in two sets) is scored once. */
    private static List<FixtureParityTest.Pair> distinct(List<FixtureParityTest.Pair> pairs) {
        return new ArrayList<>(new java.util.LinkedHashSet<>(pairs));
    }
}
