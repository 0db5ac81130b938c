package dev.kafkareranker.bench;

import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The model of (e), feed capacity: the model directory with its ONNX files replaced by a near-zero-cost graph
 * (tools/reranker_tools/null_model.py), same tokenizer, settings and contract, so only the model's own cost is
 * gone and what is left is what feeding it costs.
 */
final class FeedModel {

    private FeedModel() {
    }

    /** Cross-encoders only: the graph returns [batch, 1] logits. Empty, with a line saying so, for other kinds. */
    static Optional<Path> of(Path modelDir, ModelSpec spec, PrintStream out) throws IOException {
        if (spec.kind() != ModelKind.CROSS_ENCODER) {
            out.println("bench: (e) feed capacity skipped: the near-zero-cost graph is a cross-encoder, " + spec.name() + " is a "
                    + spec.kind().configName());
            return Optional.empty();
        }
        Path dir = Files.createTempDirectory("reranker-bench-null-model");
        try (var files = Files.list(modelDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (Files.isRegularFile(f) && !name.endsWith(".onnx") && !name.endsWith(".onnx.data") && !name.equals("golden.json")) {
                    Files.copy(f, dir.resolve(name));
                }
            }
        }
        try (InputStream in = FeedModel.class.getResourceAsStream("null-cross-encoder.onnx")) {
            if (in == null) {
                throw new IllegalStateException("null-cross-encoder.onnx is missing from the bench's resources (rebuild streams-app)");
            }
            Files.copy(in, dir.resolve("model.onnx"));
        }
        return Optional.of(dir);
    }
}
