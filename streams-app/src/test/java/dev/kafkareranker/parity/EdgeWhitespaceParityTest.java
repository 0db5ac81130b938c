package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelOverrides;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A query or passage that begins or ends with spaces, a tab or a newline is scored as the reference scores it:
 * sentence-transformers 6 hands texts to the tokenizer unchanged (no strip), so the app does too. The golden pairs
 * with edge whitespace (tools/reranker_tools/pairs.py) are on a byte-level BPE fixture (roberta-lora), where
 * the whitespace is tokens of its own, and on a SentencePiece fixture (gte-vi-legal) and the bi-encoder, whose
 * tokenizers split it off themselves (XLM-R's WhitespaceSplit pre-tokenizer as transformers 5 builds it, BERT's), so
 * there they check the tokenizer's own handling; TextAsGivenTest checks the bi-encoder's rows on a BPE tokenizer.
 */
class EdgeWhitespaceParityTest {

    private static final double TOLERANCE = 1e-4;

    static boolean edgeWhitespace(String text) {
        return !text.isEmpty() && (Character.isWhitespace(text.codePointAt(0)) || Character.isWhitespace(text.codePointBefore(text.length())));
    }

    static List<FixtureParityTest.Pair> whitespacePairs(String fixture) throws Exception {
        List<FixtureParityTest.Pair> pairs = FixtureParityTest.golden(fixture).stream()
                .filter(p -> edgeWhitespace(p.query()) || edgeWhitespace(p.document())).toList();
        assertTrue(pairs.size() >= 3, fixture + ": golden.json holds " + pairs.size() + " pairs with edge whitespace, want 3 or more");
        return pairs;
    }

    /** The largest |score - golden| and |logit - golden|. */
    private static double[] worst(Map<FixtureParityTest.Pair, Score> scores, List<FixtureParityTest.Pair> pairs) {
        double[] worst = new double[2];
        for (FixtureParityTest.Pair p : pairs) {
            Score s = scores.get(p);
            worst[0] = Math.max(worst[0], Math.abs(p.score() - s.score()));
            worst[1] = Math.max(worst[1], Math.abs(p.logit() - s.logit()));
        }
        return worst;
    }

    @ParameterizedTest
    @ValueSource(strings = {"roberta-lora", "gte-vi-legal", "bi-encoder"})
    void textsWithEdgeWhitespaceMatchTheReferenceWithin1e4(String fixture) throws Exception {
        List<FixtureParityTest.Pair> pairs = whitespacePairs(fixture);
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(FixtureParityTest.FIXTURES.resolve(fixture)), FixtureParityTest.options())) {
            Map<FixtureParityTest.Pair, Score> scores = FixtureParityTest.scoreConcurrently(engine, pairs);
            double[] worst = worst(scores, pairs);
            System.out.printf("edge whitespace %s: %d pairs, max |score - golden| = %.2e, max |logit - golden| = %.2e%n", fixture, pairs.size(),
                    worst[0], worst[1]);
            for (FixtureParityTest.Pair p : pairs) {
                Score s = scores.get(p);
                assertEquals(p.score(), s.score(), TOLERANCE, fixture + " score: " + quoted(p.query()));
                assertEquals(p.logit(), s.logit(), TOLERANCE, fixture + " logit: " + quoted(p.query()));
            }
        }
    }

    /** The byte-level BPE pairs tell a scorer that strips from one that does not: stripped, they miss the golden scores. */
    @Test
    void strippedTextsWouldMissTheReferenceOnByteLevelBpe() throws Exception {
        List<FixtureParityTest.Pair> pairs = whitespacePairs("roberta-lora");
        List<FixtureParityTest.Pair> stripped = pairs.stream()
                .map(p -> new FixtureParityTest.Pair(p.query().strip(), p.document().strip(), p.logit(), p.score())).toList();
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(FixtureParityTest.FIXTURES.resolve("roberta-lora")), FixtureParityTest.options())) {
            double[] worst = worst(FixtureParityTest.scoreConcurrently(engine, stripped), stripped);
            System.out.printf("edge whitespace roberta-lora, texts stripped: max |score - golden| = %.2e, max |logit - golden| = %.2e%n",
                    worst[0], worst[1]);
            assertTrue(worst[0] > 1e-3, "stripping the texts should move roberta-lora's scores by more than 1e-3, moved " + worst[0]);
        }
    }

    /**
     * With long documents chunked, a passage that fits one window goes in whole and keeps its own whitespace (only a
     * chunk's edges, which are the app's cut, are trimmed): the same score as without chunking.
     */
    @Test
    void aWholePassageInChunkModeKeepsItsWhitespace() throws Exception {
        Path dir = FixtureParityTest.FIXTURES.resolve("roberta-lora");
        ModelOverrides chunk = new ModelOverrides("model.test.", OptionalInt.empty(), Optional.of("chunk"), OptionalInt.empty(),
                OptionalInt.empty(), Optional.empty(), OptionalInt.empty(), Optional.empty());
        List<FixtureParityTest.Pair> pairs = whitespacePairs("roberta-lora");
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(dir, chunk), FixtureParityTest.options())) {
            Map<FixtureParityTest.Pair, Score> scores = FixtureParityTest.scoreConcurrently(engine, pairs);
            int whole = 0;
            for (FixtureParityTest.Pair p : pairs) {
                Score s = scores.get(p);
                if (s.provenance().orElseThrow().chunks() != 1) {
                    continue;  // cut into chunks: ChunkedParityTest's reference covers those
                }
                whole++;
                assertEquals(p.score(), s.score(), TOLERANCE, "chunk mode, whole passage: " + quoted(p.document()));
                assertEquals(p.logit(), s.logit(), TOLERANCE, "chunk mode, whole passage: " + quoted(p.document()));
            }
            assertTrue(whole >= 2, "want two whitespace pairs whose passage fits one window, got " + whole);
        }
    }

    private static String quoted(String text) {
        String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return "\"" + shown.replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }
}
