package dev.kafkareranker.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.FakeDeviceFaults;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.inference.ModelUnavailableException;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.inference.Stage;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelOverrides;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model with a first stage: the BERT cross-encoder fixture scores every passage, the LLaMA causal-LM fixture
 * (the expensive model) the first stage's top N, both real ONNX Runtime engines behind the registry's slots. Faults
 * are injected around the real sessions ({@link FakeDeviceFaults}); what a real engine cannot be held in on cue
 * (a call running when its query is cancelled) uses {@link FakeHeldStage}.
 */
class CascadeScorerTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures");
    private static final String QUERY = "does aspirin lower the risk of heart attack";
    private static final List<String> PASSAGES = List.of(
            "Aspirin lowers the risk of a second heart attack in patients with heart disease.",
            "The seasons are caused by the tilt of the earth's axis.",
            "Low doses of aspirin are given after a heart attack.",
            "Kafka transactions commit offsets and results together.",
            "Bleeding is the main risk of daily aspirin.",
            "Cats purr when they are content.",
            "Heart attacks are caused by a blocked coronary artery.",
            "Iron deficiency anemia causes fatigue.");
    private static final int TOP_N = 3;

    @TempDir
    Path dir;

    private static InferenceOptions cpu() {
        return InferenceOptions.defaults().withDevice(Device.parse("cpu"));
    }

    private static List<ModelRegistry.Served> cascade(Path firstStage, Path model, int topN) {
        return List.of(new ModelRegistry.Served("ce", firstStage, cpu()),
                new ModelRegistry.Served("llm", model, cpu(), ModelOverrides.NONE, Optional.of(new ModelRegistry.FirstStage("ce", topN))));
    }

    private static List<Score> alone(Path model, List<String> passages) {
        try (Scorer scorer = Scorers.open(ModelDirectory.load(model), cpu())) {
            return scorer.score(QUERY, passages);
        }
    }

    private static long rows(ModelRegistry registry, String model) {
        return ((InferenceEngine) registry.slot(model).currentScorer()).stats().rows();
    }

    @Test
    void theModelScoresTheFirstStagesTopNAndEveryPassageCarriesTheFirstStagesScore() {
        Path ce = FIXTURES.resolve("bert-cross-encoder");
        Path llm = FIXTURES.resolve("llama-causal-lm");
        List<Score> first = alone(ce, PASSAGES);
        List<Integer> top = IntStream.range(0, PASSAGES.size()).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> first.get(i).score()).reversed()).limit(TOP_N).toList();
        List<Score> expensive = alone(llm, top.stream().map(PASSAGES::get).toList());
        try (ModelRegistry registry = ModelRegistry.open(cascade(ce, llm, TOP_N), "llm")) {
            Scorer.Scoring scoring = registry.forModel("llm").scoreQuery(QUERY, PASSAGES);
            assertEquals("llm", scoring.modelName(), "the result names the expensive model");
            assertEquals("1", scoring.modelVersion());
            for (int i = 0; i < PASSAGES.size(); i++) {
                Score s = scoring.scores().get(i);
                Stage stage = s.stage().orElseThrow();
                assertEquals(first.get(i).score(), stage.firstStageScore(), 1e-5, "passage " + i + " carries the first stage's score");
                int k = top.indexOf(i);
                if (k >= 0) {
                    assertEquals(new Stage("llm", true, stage.firstStageScore()), stage, "passage " + i + " is in the top " + TOP_N);
                    assertEquals(expensive.get(k).score(), s.score(), 1e-4, "passage " + i + " has the model's score");
                    assertEquals(expensive.get(k).logit(), s.logit(), 1e-4);
                } else {
                    assertEquals(new Stage("ce", false, stage.firstStageScore()), stage, "passage " + i + " is below the top " + TOP_N);
                    assertEquals(first.get(i).score(), s.score(), 1e-5, "passage " + i + " keeps the first stage's score");
                }
                assertTrue(s.provenance().isPresent(), "what of the passage was read, from the stage that ranked it");
            }
            assertEquals(PASSAGES.size(), rows(registry, "ce"), "the first stage scored every passage");
            assertEquals(TOP_N, rows(registry, "llm"), "the model scored its top " + TOP_N + " only");
        }
    }

    @Test
    void aQueryWithNoMoreCandidatesThanTopNIsRankedWhollyByTheModel() {
        try (ModelRegistry registry = ModelRegistry.open(cascade(FIXTURES.resolve("bert-cross-encoder"),
                FIXTURES.resolve("llama-causal-lm"), TOP_N), "llm")) {
            List<Score> scores = registry.forModel(null).score(QUERY, PASSAGES.subList(0, 2));
            assertTrue(scores.stream().allMatch(s -> s.stage().orElseThrow().finalStage()), scores.toString());
            assertEquals(2, rows(registry, "llm"));
        }
    }

    @Test
    void aDeviceFaultOfEitherStageFailsTheQueryTransientlyAndTheModelIsNotCalledAfterAFailedFirstStage() {
        FakeDeviceFaults ce = new FakeDeviceFaults();
        FakeDeviceFaults llm = new FakeDeviceFaults();
        try (ModelRegistry registry = ModelRegistry.withLoader(cascade(FIXTURES.resolve("bert-cross-encoder"),
                FIXTURES.resolve("llama-causal-lm"), TOP_N), "llm", FakeDeviceFaults.loader(Map.of("ce", ce, "llm", llm)))) {
            Scorer cascade = registry.forModel("llm");
            ce.deviceFailing = true;
            CompletionException first = assertThrows(CompletionException.class, () -> cascade.scoreQueryAsync(QUERY, PASSAGES).join());
            assertInstanceOf(ModelUnavailableException.class, first.getCause(), "the model is at fault: scored again later");
            assertTrue(ce.failedCalls.get() > 0);
            assertEquals(0, rows(registry, "llm"), "nothing went on to the model");

            ce.deviceFailing = false;
            llm.deviceFailing = true;
            CompletionException second = assertThrows(CompletionException.class, () -> cascade.scoreQueryAsync(QUERY, PASSAGES).join());
            assertInstanceOf(ModelUnavailableException.class, second.getCause());
            assertTrue(llm.failedCalls.get() > 0);

            llm.deviceFailing = false;
            assertEquals(PASSAGES.size(), cascade.score(QUERY, PASSAGES).size(), "scored once the fault is gone");
        }
    }

    @Test
    void aQuerysOwnRowsFailingInEitherStageFailItPermanently() {
        FakeDeviceFaults ce = new FakeDeviceFaults();
        FakeDeviceFaults llm = new FakeDeviceFaults();
        try (ModelRegistry registry = ModelRegistry.withLoader(cascade(FIXTURES.resolve("bert-cross-encoder"),
                FIXTURES.resolve("llama-causal-lm"), PASSAGES.size()), "llm", FakeDeviceFaults.loader(Map.of("ce", ce, "llm", llm)))) {
            Scorer cascade = registry.forModel("llm");
            for (FakeDeviceFaults stage : List.of(ce, llm)) {
                stage.poison = "Cats purr";
                CompletionException e = assertThrows(CompletionException.class, () -> cascade.scoreQueryAsync(QUERY, PASSAGES).join());
                assertInstanceOf(InferenceException.class, e.getCause());
                assertFalse(e.getCause() instanceof ModelUnavailableException, "the query's own rows: its candidates become dead letters");
                assertEquals(1, stage.poisonedRequests.get());
                stage.poison = null;
            }
        }
    }

    @Test
    void aCancelReachesTheStageThatIsRunning() {
        FakeHeldStage first = new FakeHeldStage("ce");
        FakeHeldStage model = new FakeHeldStage("llm");
        CascadeScorer cascade = new CascadeScorer(first, model, 1);

        CompletableFuture<Scorer.Scoring> during = cascade.scoreQueryAsync(QUERY, List.of("a score=0.1", "b score=0.9"));
        during.cancel(false);
        assertTrue(first.calls.get(0).future().isCancelled(), "the first stage drops the rows it has not run");
        assertTrue(model.calls.isEmpty());

        CompletableFuture<Scorer.Scoring> later = cascade.scoreQueryAsync(QUERY, List.of("a score=0.1", "b score=0.9"));
        first.answer();
        assertEquals(List.of("b score=0.9"), model.calls.get(0).passages(), "the first stage's best went on");
        later.cancel(false);
        assertTrue(model.calls.get(0).future().isCancelled(), "the model drops the rows it has not run");
    }

    @Test
    void aQueryIsHeldBackWhileEitherStageRefusesWorkOrHasNoRoom() {
        FakeHeldStage first = new FakeHeldStage("ce");
        FakeHeldStage model = new FakeHeldStage("llm");
        CascadeScorer cascade = new CascadeScorer(first, model, 1);
        assertTrue(cascade.accepting() && cascade.hasRoom());
        ModelHealth open = new ModelHealth(ModelHealth.State.UNAVAILABLE, 3, "injected");
        first.health = open;
        assertFalse(cascade.accepting());
        assertEquals(open, cascade.health(), "the stage that refuses says why");
        first.health = ModelHealth.HEALTHY;
        model.health = open;
        assertFalse(cascade.accepting());
        model.health = ModelHealth.HEALTHY;
        first.room = false;
        assertFalse(cascade.hasRoom());
        first.room = true;
        model.room = false;
        assertFalse(cascade.hasRoom());
        assertThrows(IllegalArgumentException.class, () -> new CascadeScorer(first, model, 0));
    }

    @Test
    void tiesInTheFirstStageGoOnInTheOrderThePassagesCameSoEveryScoringPicksTheSame() {
        FakeHeldStage first = new FakeHeldStage("ce");
        FakeHeldStage model = new FakeHeldStage("llm");
        CascadeScorer cascade = new CascadeScorer(first, model, 2);
        CompletableFuture<Scorer.Scoring> scoring = cascade.scoreQueryAsync(QUERY, List.of("a score=0.5", "b score=0.5", "c score=0.5",
                "d score=0.7"));
        first.answer();
        assertEquals(List.of("d score=0.7", "a score=0.5"), model.calls.get(0).passages());
        model.answer();
        List<Score> scores = scoring.join().scores();
        assertEquals(List.of(true, false, false, true), scores.stream().map(s -> s.stage().orElseThrow().finalStage()).toList());
    }

    @Test
    void aFirstStageRowScoredNaNOrInfiniteIsNeverPromotedAheadOfAFiniteOne() {
        FakeHeldStage first = new FakeHeldStage("ce");
        FakeHeldStage model = new FakeHeldStage("llm");
        CascadeScorer cascade = new CascadeScorer(first, model, 2);
        CompletableFuture<Scorer.Scoring> scoring = cascade.scoreQueryAsync(QUERY, List.of("a score=NaN", "b score=Infinity",
                "c score=-3", "d score=0.1"));
        first.answer();
        assertEquals(List.of("d score=0.1", "c score=-3"), model.calls.get(0).passages());
        model.answer();
        assertEquals(List.of(false, false, true, true), scoring.join().scores().stream().map(s -> s.stage().orElseThrow().finalStage()).toList());
    }

    @Test
    void eitherStageIsSwappedBetweenQueriesAndTheResultNamesTheModelsVersion() throws Exception {
        Path ce = dir.resolve("ce");
        Path llm = dir.resolve("llm");
        copy(FIXTURES.resolve("bert-cross-encoder"), ce, "1");
        copy(FIXTURES.resolve("llama-causal-lm"), llm, "1");
        List<Score> bert = alone(ce, PASSAGES);
        try (ModelRegistry registry = ModelRegistry.open(cascade(ce, llm, TOP_N), "llm")) {
            Scorer cascade = registry.forModel("llm");
            assertFirstStageScores(bert, cascade.score(QUERY, PASSAGES));

            copy(FIXTURES.resolve("roberta-lora"), ce, "2");
            assertEquals("2", registry.reload("ce"));
            List<Score> roberta = alone(ce, PASSAGES);
            Scorer.Scoring afterFirst = cascade.scoreQuery(QUERY, PASSAGES);
            assertFirstStageScores(roberta, afterFirst.scores());
            assertEquals("1", afterFirst.modelVersion(), "the result names the model's version, not the first stage's");

            copy(FIXTURES.resolve("llama-causal-lm"), llm, "2");
            assertEquals("2", registry.reload("llm"));
            assertEquals("2", cascade.scoreQuery(QUERY, PASSAGES).modelVersion());
            assertTrue(registry.forModel("llm") == cascade, "the cascade serves on across swaps of its stages");
        }
    }

    private static void assertFirstStageScores(List<Score> expected, List<Score> scored) {
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).score(), scored.get(i).stage().orElseThrow().firstStageScore(), 1e-5, "passage " + i);
        }
    }

    private static void copy(Path from, Path to, String version) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        String json = Files.readString(to.resolve("reranker.json")).replaceAll("\"version\"\\s*:\\s*\"[^\"]*\"", "\"version\": \"" + version + "\"");
        Files.writeString(to.resolve("reranker.json"), json);
    }
}
