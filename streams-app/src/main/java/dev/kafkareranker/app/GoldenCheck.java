package dev.kafkareranker.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelDirectory.Variant;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One model file scored on a device against the golden scores its directory carries ({@code golden.json}, written
 * by tools/ from PyTorch in fp32), with the variant's tolerance. Each query's pairs are one request, so that the
 * batches (which dynamic int8 depends on) are the same on every run.
 */
final class GoldenCheck {

    static final String GOLDEN_JSON = "golden.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One golden pair: its logit at the model's label index and its score. */
    record Pair(String query, String document, double logit, double score) {}

    /** Opens a scorer for a model file on a device; {@code Scorers.open} in production, a fake of a GPU in tests. */
    interface DeviceScorers {
        Opened open(ModelSpec spec, InferenceOptions options);

        /** The scorer and the execution provider its session runs on. */
        record Opened(Scorer scorer, String provider) {}
    }

    /**
     * @param error what stopped the file from being scored (it did not load on the device, or scoring threw)
     */
    record Result(String model, Variant variant, int pairs, double maxLogitDelta, double maxScoreDelta, double tolerance, int nonFinite,
                  String provider, Optional<String> error) {

        boolean passed() {
            return error.isEmpty() && nonFinite == 0 && maxLogitDelta <= tolerance && maxScoreDelta <= tolerance;
        }

        /** Why it failed, in a few words; empty when it passed. */
        String problem() {
            if (error.isPresent()) {
                return error.get();
            }
            if (nonFinite > 0) {
                return nonFinite + " of " + pairs + " scores are NaN or infinite";
            }
            if (!passed()) {
                return String.format("max |delta| %.1e > tolerance %.1e", Math.max(maxLogitDelta, maxScoreDelta), tolerance);
            }
            return "";
        }
    }

    private GoldenCheck() {
    }

    /** The directory's golden pairs, or empty when it has no golden.json. */
    static List<Pair> read(Path modelDir) throws IOException {
        Path file = modelDir.resolve(GOLDEN_JSON);
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        JsonNode root = JSON.readTree(file.toFile());
        JsonNode labelIndexNode = root.path("label_index");
        int labelIndex = labelIndexNode.canConvertToInt() ? labelIndexNode.asInt() : 0;
        List<Pair> pairs = new ArrayList<>();
        for (JsonNode p : root.path("pairs")) {
            pairs.add(new Pair(p.path("query").asText(), p.path("document").asText(), p.path("logits").path(labelIndex).asDouble(Double.NaN),
                    p.path("score").asDouble(Double.NaN)));
        }
        return pairs;
    }

    /** The variants whose files the directory has, fp32 first. */
    static List<Variant> variants(Path modelDir) {
        List<Variant> out = new ArrayList<>();
        for (Variant variant : Variant.values()) {
            if (ModelDirectory.modelFile(modelDir, variant).isPresent()) {
                out.add(variant);
            }
        }
        return out;
    }

    /**
     * How far a variant may be from fp32 PyTorch, on logits and scores alike (every activation used has a slope
     * of at most 1); the rule of the parity tests (VariantParityTest), where the reasons are written out:
     * fp32 1e-4 on the CPU; fp16 1e-2 x max(1, |largest golden logit|) (11 significant bits); int8 0.25 x the
     * same scale (CPU-dependent int8 kernels). On a GPU fp32 gets fp16's rule: ONNX Runtime's CUDA provider
     * runs fp32 matrix products in TF32 by default (its use_tf32 option), which keeps fp16's 10-bit mantissa.
     */
    static double tolerance(Variant variant, double maxAbsGoldenLogit, boolean onGpu) {
        double scale = Math.max(1, maxAbsGoldenLogit);
        return switch (variant) {
            case FP32 -> onGpu ? 1e-2 * scale : 1e-4;
            case FP16 -> 1e-2 * scale;
            case INT8 -> 0.25 * scale;
        };
    }

    static Result check(String name, Path modelDir, Variant variant, List<Pair> pairs, InferenceOptions options, DeviceScorers scorers) {
        double scale = pairs.stream().mapToDouble(p -> Math.abs(p.logit())).max().orElse(0);
        boolean gpuAsked = options.device().kind() == dev.kafkareranker.inference.Device.Kind.CUDA;
        GoldenCheck.DeviceScorers.Opened opened;
        try {
            opened = scorers.open(ModelDirectory.load(modelDir), options.withVariant(variant));
        } catch (RuntimeException e) {
            return new Result(name, variant, pairs.size(), 0, 0, tolerance(variant, scale, gpuAsked), 0, "-",
                    Optional.of("did not load: " + oneLine(e)));
        }
        boolean onGpu = !opened.provider().startsWith("CPU");
        double tolerance = tolerance(variant, scale, onGpu);
        double worstLogit = 0;
        double worstScore = 0;
        int nonFinite = 0;
        try (Scorer scorer = opened.scorer()) {
            for (List<Pair> group : byQuery(pairs).values()) {
                List<Score> scores = scorer.score(group.get(0).query(), group.stream().map(Pair::document).toList());
                for (int i = 0; i < group.size(); i++) {
                    Score s = scores.get(i);
                    if (!Double.isFinite(s.logit()) || !Double.isFinite(s.score())) {
                        nonFinite++;
                        continue;
                    }
                    worstLogit = Math.max(worstLogit, Math.abs(group.get(i).logit() - s.logit()));
                    worstScore = Math.max(worstScore, Math.abs(group.get(i).score() - s.score()));
                }
            }
        } catch (RuntimeException e) {
            return new Result(name, variant, pairs.size(), worstLogit, worstScore, tolerance, nonFinite, opened.provider(),
                    Optional.of("scoring failed: " + oneLine(e)));
        }
        return new Result(name, variant, pairs.size(), worstLogit, worstScore, tolerance, nonFinite, opened.provider(), Optional.empty());
    }

    static Map<String, List<Pair>> byQuery(List<Pair> pairs) {
        Map<String, List<Pair>> out = new LinkedHashMap<>();
        pairs.forEach(p -> out.computeIfAbsent(p.query(), q -> new ArrayList<>()).add(p));
        return out;
    }

    static String oneLine(Throwable e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        message = newline < 0 ? message : message.substring(0, newline);
        return message.length() > 300 ? message.substring(0, 300) + "..." : message;
    }
}
