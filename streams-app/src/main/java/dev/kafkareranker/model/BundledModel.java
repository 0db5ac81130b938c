package dev.kafkareranker.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The model that ships inside the jar: BAAI's bge-small-en-v1.5 (int8-quantized ONNX, from langchain4j's
 * Maven artifact), served as a bi-encoder. It needs no download, which is why it is the default; a
 * trained cross-encoder is what a user should bring for quality.
 */
public final class BundledModel {

    public static final String NAME = "bge-small-en-v1.5-q";
    private static final String RESOURCE_DIR = "/default-model/";
    private static final String[] FILES = {"model.onnx", "tokenizer.json", ModelDirectory.RERANKER_JSON};

    private BundledModel() {
    }

    /**
     * Copies the bundled files to a fresh temporary directory (deleted on exit) and returns it: ONNX
     * Runtime and the tokenizer read from paths, and the files live inside a jar.
     */
    public static Path extract() {
        try {
            Path dir = Files.createTempDirectory("reranker-default-model");
            // Registered first so that it is deleted last, after the files in it.
            dir.toFile().deleteOnExit();
            for (String file : FILES) {
                try (InputStream in = BundledModel.class.getResourceAsStream(RESOURCE_DIR + file)) {
                    if (in == null) {
                        throw new ModelLoadException("The bundled model's " + file + " is missing from the classpath ("
                                + RESOURCE_DIR + file + "); rebuild streams-app with mvn package");
                    }
                    Path target = dir.resolve(file);
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    target.toFile().deleteOnExit();
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot extract the bundled model", e);
        }
    }
}
