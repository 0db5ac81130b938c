package dev.kafkareranker.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The MiniLM-L6-H384 cross-encoder ({@code --minilm-weights}), built once into the cache by
 * tools/reranker_tools/minilm_cross_encoder.py. The folder's name carries the build's version and whether its
 * head was fitted on MED, so a build of an older version (the random head of version 1 sat in
 * "minilm-l6-cross-encoder") is never reused.
 */
final class MiniLmBuild {

    /** minilm_cross_encoder.py's VERSION: bump both together when the build changes. */
    private static final String BUILD = "minilm-l6-cross-encoder-v2";

    private MiniLmBuild() {
    }

    static Path dir(PrintStream out, BenchCommand.Settings settings) {
        Optional<Path> med = BenchEnvironment.med();
        Path outDir = BenchEnvironment.cacheDir().resolve(BUILD + (med.isPresent() ? "-med-head" : "-random-head"));
        if (Files.isRegularFile(outDir.resolve("model.int8.onnx"))) {
            return outDir;
        }
        Path python = settings.peersPython().orElseThrow(() -> new IllegalStateException(
                "bench: --minilm-weights needs --peers-python (the tools' venv python, with torch and transformers)"));
        out.println("bench: building the MiniLM cross-encoder into " + outDir + (med.isPresent() ? ", its head fitted on MED"
                : ", with a random head: ../shared/data/med is absent, so (f)'s int8 order check compares noise"));
        List<String> args = new ArrayList<>(List.of("-m", "reranker_tools.minilm_cross_encoder", "--weights",
                settings.minilmWeights().orElseThrow().toAbsolutePath().toString(), "--out", outDir.toAbsolutePath().toString()));
        med.ifPresent(dir -> args.addAll(List.of("--med", dir.toAbsolutePath().toString())));
        PythonTool.run(out, python, BenchEnvironment.requireTools(BenchEnvironment.tools()), args);
        return outDir;
    }
}
