package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.RawRunner;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * (f), with {@code --peers-python}: sentence-transformers' CrossEncoder.predict and raw ONNX Runtime from Python
 * on the same model and pairs, beside this project's fp32 and int8 on the same globally length-sorted batches of
 * 32, and how far int8's ranking is from fp32's.
 */
final class PeersPhase {

    private PeersPhase() {
    }

    static Peers measure(PrintStream out, BenchCommand.Settings settings, Path modelDir, ModelSpec spec, InferenceOptions options,
                         Workload generated, int cores) throws Exception {
        if (!Files.isDirectory(modelDir.resolve("hf"))) {
            throw new IllegalStateException("bench: (f) needs the PyTorch weights in " + modelDir.resolve("hf")
                    + " for sentence-transformers (export with --save-hf, or use --minilm-weights)");
        }
        // Real queries and their BM25 candidates when MED is at hand (see MedWorkload), else the other phases' pairs.
        Optional<Workload> med = MedWorkload.load(BenchEnvironment.med(), settings.queries(), settings.candidates());
        Workload workload = med.orElse(generated);
        String source = med.isPresent()
                ? String.format(Locale.ROOT, "MED: %d real queries x BM25 top %d abstracts = %d pairs", workload.queries().size(),
                        settings.candidates(), workload.pairs())
                : "the generated workload (../shared/data/med is absent: the int8 order check then compares word salad)";
        JsonNode python = runPython(out, settings, modelDir, workload, cores, source);
        // The peers' order: every pair sorted by length across queries, cut into batches of 32, no token budget or padding cap.
        InferenceOptions sorted32 = options.withBatch(32, Integer.MAX_VALUE).withMaxPaddingRatio(Double.POSITIVE_INFINITY);
        Phase fp32 = timedScore(out, spec, sorted32.withVariant(ModelDirectory.Variant.FP32), workload, "java-fp32");
        Phase int8 = null;
        Int8Agreement agreement = null;
        if (Files.isRegularFile(modelDir.resolve(ModelDirectory.Variant.INT8.fileName()))) {
            int8 = timedScore(out, spec, sorted32.withVariant(ModelDirectory.Variant.INT8), workload, "java-int8");
            agreement = top10Agreement(spec, options, workload);
        }
        return new Peers(python, fp32, int8, agreement, source);
    }

    private static JsonNode runPython(PrintStream out, BenchCommand.Settings settings, Path modelDir, Workload workload, int cores,
                                      String source) throws Exception {
        Path pairsFile = Files.createTempFile("reranker-bench-pairs", ".json");
        Path result = Files.createTempFile("reranker-bench-peers", ".json");
        try {
            ObjectNode pairsJson = BenchEnvironment.JSON.createObjectNode();
            var queries = pairsJson.putArray("queries");
            for (Workload.Query q : workload.queries()) {
                ObjectNode node = queries.addObject();
                node.put("query", q.text());
                var passages = node.putArray("passages");
                q.passages().forEach(passages::add);
            }
            Files.writeString(pairsFile, BenchEnvironment.JSON.writeValueAsString(pairsJson));
            out.printf(Locale.ROOT, "bench: (f) peers on %d threads, pairs from %s, load average %.2f%n", cores, source,
                    BenchEnvironment.loadAverage());
            PythonTool.run(out, settings.peersPython().orElseThrow(), BenchEnvironment.requireTools(BenchEnvironment.tools()),
                    List.of("-m", "reranker_tools.bench_peers", "--model-dir", modelDir.toAbsolutePath().toString(), "--pairs",
                            pairsFile.toAbsolutePath().toString(), "--threads", Integer.toString(cores), "--batch-size", "32",
                            "--max-length", "512", "--out", result.toAbsolutePath().toString()));
            return BenchEnvironment.JSON.readTree(result.toFile());
        } finally {
            Files.deleteIfExists(pairsFile);
            Files.deleteIfExists(result);
        }
    }

    /** Tokenizing and running every pair, timed together as the peers' are (with one untimed warm-up batch set). */
    private static Phase timedScore(PrintStream out, ModelSpec spec, InferenceOptions options, Workload workload, String name) {
        try (RawRunner runner = RawRunner.open(spec, options)) {
            List<RawRunner.Request> requests = workload.requests();
            runner.run(runner.prepare(requests.subList(0, 1)));
            long start = System.nanoTime();
            RawRunner.Prepared prepared = runner.prepare(requests);
            runner.run(prepared);
            long nanos = System.nanoTime() - start;
            out.printf(Locale.ROOT, "bench: (f) %s: %.1f pairs/s, load average %.2f%n", name, workload.pairs() / (nanos / 1e9),
                    BenchEnvironment.loadAverage());
            return new Phase(name, workload.pairs(), prepared.realTokens(), nanos,
                    (double) prepared.paddedTokens() / prepared.realTokens(), prepared.batchRows(), runner.executionProvider());
        }
    }

    /** int8's scores against fp32's on every query of {@code workload} ({@link Int8Agreement}). */
    private static Int8Agreement top10Agreement(ModelSpec spec, InferenceOptions options, Workload workload) {
        List<RawRunner.Request> requests = workload.requests();
        List<double[]> fp32;
        List<double[]> int8;
        try (RawRunner runner = RawRunner.open(spec, options.withVariant(ModelDirectory.Variant.FP32))) {
            fp32 = runner.logits(requests);
        }
        try (RawRunner runner = RawRunner.open(spec, options.withVariant(ModelDirectory.Variant.INT8))) {
            int8 = runner.logits(requests);
        }
        return Int8Agreement.of(fp32, int8);
    }
}
