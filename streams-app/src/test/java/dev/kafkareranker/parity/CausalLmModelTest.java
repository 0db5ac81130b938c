package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kind causal-lm on the llama-causal-lm fixture (LLaMA + merged LoRA, MedAlpaca-style prompt): what
 * reranker.json decides, and the mistakes that must fail at load rather than mis-score.
 */
class CausalLmModelTest {

    private static final String FIXTURE = "llama-causal-lm";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path copyWith(Consumer<ObjectNode> edit) throws IOException {
        try (Stream<Path> files = Files.list(FixtureParityTest.FIXTURES.resolve(FIXTURE))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        ObjectNode reranker = (ObjectNode) JSON.readTree(dir.resolve("reranker.json").toFile());
        edit.accept(reranker);
        JSON.writeValue(dir.resolve("reranker.json").toFile(), reranker);
        return dir;
    }

    private static ModelLoadException refused(Path model) {
        return assertThrows(ModelLoadException.class,
                () -> Scorers.open(ModelDirectory.load(model), FixtureParityTest.options()).close());
    }

    @Test
    void theFixtureIsACausalLmPaddedLeftWithTheMedAlpacaPrompt() {
        ModelSpec spec = ModelDirectory.load(FixtureParityTest.FIXTURES.resolve(FIXTURE));
        assertEquals(ModelKind.CAUSAL_LM, spec.kind());
        assertTrue(spec.padLeft(), "the graph reads the last position");
        assertEquals(2048, spec.maxLength());
        assertEquals(List.of("yes", "no"), spec.prompt().orElseThrow().labelWords());
        assertTrue(spec.prompt().orElseThrow().suffix().contains("### Response:"));
    }

    @Test
    void scoreIsTheSigmoidOfYesMinusNo() throws Exception {
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(FixtureParityTest.FIXTURES.resolve(FIXTURE)),
                FixtureParityTest.options())) {
            List<Score> scores = engine.score("what is kafka streams",
                    List.of("Kafka Streams is a client library.", "Bread dough should rest for an hour."));
            for (Score s : scores) {
                assertEquals(1.0 / (1.0 + Math.exp(-s.logit())), s.score(), 1e-12);
            }
            assertTrue(scores.get(0).score() != scores.get(1).score(), "the document reaches the score");
        }
    }

    @Test
    void weightsInExternalDataLoadFromBesideTheGraphWithTheSameScores() throws Exception {
        // The layout of a model over 2 GB (protobuf's limit), forced on the same model: graph and weights apart.
        Path external = FixtureParityTest.FIXTURES.resolve(FIXTURE + "-external");
        for (String variant : List.of("model.onnx")) {
            assertTrue(Files.size(external.resolve(variant + ".data")) > 0, variant + " keeps its weights in " + variant + ".data");
        }
        assertTrue(Files.size(external.resolve("model.onnx")) < Files.size(FixtureParityTest.FIXTURES.resolve(FIXTURE).resolve("model.onnx")));
        List<FixtureParityTest.Pair> golden = FixtureParityTest.golden(FIXTURE);
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(external), FixtureParityTest.options())) {
            List<Score> scores = engine.score(golden.get(0).query(), List.of(golden.get(0).document()));
            assertEquals(golden.get(0).score(), scores.get(0).score(), 1e-4, "the same model, its weights read from model.onnx.data");
        }
    }

    @Test
    void labelWordsWhoseIdsAreNotTheGraphsAreRefused() throws IOException {
        ModelLoadException e = refused(copyWith(r -> r.putArray("label_words").add("no").add("yes")));
        assertTrue(e.getMessage().contains("label_token_ids") && e.getMessage().contains("[427, 428]"), e.getMessage());
    }

    @Test
    void aLabelWordOfSeveralTokensIsRefused() throws IOException {
        ModelLoadException e = refused(copyWith(r -> {
            r.putArray("label_words").add("absolutely yes").add("no");
            r.remove("label_token_ids");
        }));
        assertTrue(e.getMessage().contains("'absolutely yes'") && e.getMessage().contains("label_words"), e.getMessage());
    }

    @Test
    void rightPaddingAndAMissingTemplateAreRefusedNamingTheSetting() throws IOException {
        Path model = copyWith(r -> r.put("padding_side", "right"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(model));
        assertTrue(e.getMessage().contains("padding_side") && e.getMessage().contains("left"), e.getMessage());

        ObjectNode reranker = (ObjectNode) JSON.readTree(model.resolve("reranker.json").toFile());
        reranker.put("padding_side", "left");
        reranker.put("prompt_template", "Question: {query}");
        JSON.writeValue(model.resolve("reranker.json").toFile(), reranker);
        e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(model));
        assertTrue(e.getMessage().contains("prompt_template") && e.getMessage().contains("{document}"), e.getMessage());
    }

    @Test
    void aPromptLongerThanTheMaxLengthIsRefused() throws IOException {
        ModelLoadException e = refused(copyWith(r -> r.put("max_length", 20)));
        assertTrue(e.getMessage().contains("prompt_prefix") && e.getMessage().contains("max_length"), e.getMessage());
    }
}
