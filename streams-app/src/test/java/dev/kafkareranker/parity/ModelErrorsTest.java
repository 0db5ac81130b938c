package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors that need a real ONNX session, on copies of the fixtures with one thing broken. */
class ModelErrorsTest {

    @TempDir
    Path dir;

    private Path copyOf(String fixture) throws IOException {
        Path source = FixtureParityTest.FIXTURES.resolve(fixture);
        try (Stream<Path> files = Files.list(source)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    @Test
    void anOutputOfTheWrongShapeIsRefusedAtLoadNamingTheFile() throws IOException {
        Path model = copyOf("bi-encoder");
        Files.writeString(model.resolve("reranker.json"), "{\"kind\": \"cross-encoder\", \"pad_token_id\": 0, \"label_index\": 0}");
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> Scorers.open(ModelDirectory.load(model), InferenceOptions.defaults()).close());
        assertTrue(e.getMessage().contains("model.onnx") && e.getMessage().contains("rank 3")
                && e.getMessage().contains("reranker.json"), e.getMessage());
    }

    @Test
    void aFileThatIsNotOnnxIsNamed() throws IOException {
        Path model = copyOf("roberta-lora");
        Files.writeString(model.resolve("model.onnx"), "not a model");
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> Scorers.open(ModelDirectory.load(model), InferenceOptions.defaults()).close());
        assertTrue(e.getMessage().contains("model.onnx"), e.getMessage());
    }

    @Test
    void aTokenizerFromAnotherModelIsRefused() throws IOException {
        // RoBERTa's BPE vocabulary (600 ids) into XLM-R's 287 embeddings.
        Path model = copyOf("xlmr-vi-legal");
        Files.copy(FixtureParityTest.FIXTURES.resolve("roberta-lora").resolve("tokenizer.json"), model.resolve("tokenizer.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(model));
        assertTrue(e.getMessage().contains("vocab_size"), e.getMessage());
    }
}
