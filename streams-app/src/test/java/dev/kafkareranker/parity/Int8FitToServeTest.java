package dev.kafkareranker.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelDirectory.Variant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory whose int8 the export judged unfit to serve (reranker.json {@code variants.int8.fit_to_serve:
 * false}, as `tools export --int8` writes it when int8 misses its tolerance): model.variant=auto serves
 * model.onnx, scoring the fp32 goldens; the int8 file is still there and is served only when asked for by name.
 */
class Int8FitToServeTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path withInt8JudgedUnfit() throws IOException {
        try (Stream<Path> files = Files.list(FixtureParityTest.FIXTURES.resolve("bert-cross-encoder"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        ObjectNode reranker = (ObjectNode) JSON.readTree(dir.resolve("reranker.json").toFile());
        ObjectNode int8 = reranker.putObject("variants").putObject("int8");
        int8.put("fit_to_serve", false).put("max_abs_diff", 0.31).put("tolerance", 0.1);
        JSON.writeValue(dir.resolve("reranker.json").toFile(), reranker);
        return dir;
    }

    private static double worstAgainstGolden(Path model, InferenceOptions options) throws Exception {
        List<FixtureParityTest.Pair> golden = FixtureParityTest.golden("bert-cross-encoder");
        double worst = 0;
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(model), options)) {
            for (List<FixtureParityTest.Pair> group : FixtureParityTest.byQuery(golden).values()) {
                List<Score> scores = engine.score(group.get(0).query(), group.stream().map(FixtureParityTest.Pair::document).toList());
                for (int i = 0; i < group.size(); i++) {
                    worst = Math.max(worst, Math.abs(group.get(i).logit() - scores.get(i).logit()));
                }
            }
        }
        return worst;
    }

    @Test
    void autoServesTheFp32ModelAndTheInt8OnlyWhenAskedByName() throws Exception {
        Path model = withInt8JudgedUnfit();
        assertTrue(ModelDirectory.unfitToServe(model, Variant.INT8).isPresent());
        assertEquals(java.util.Optional.empty(), ModelDirectory.autoVariantFile("bert-cross-encoder", model, Variant.INT8));

        double auto = worstAgainstGolden(model, FixtureParityTest.options());
        double int8 = worstAgainstGolden(model, FixtureParityTest.options().withVariant(Variant.INT8));
        System.out.printf("int8 judged unfit: auto max |logit - golden| = %.2e, int8 by name %.2e%n", auto, int8);
        assertTrue(auto <= 1e-4, "auto served model.onnx: " + auto);
        assertTrue(int8 > 1e-3, "the int8 file (asked for by name) is a different model: " + int8);
    }
}
