package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code reranker bench}: one seeded workload, measured on the same model and pairs, one class per phase:
 * (a) raw ONNX Runtime on ideal pre-tokenized batches ({@link RawPhase}), (b) the inference engine alone, fed
 * by several threads ({@link EnginePhase}), (c) the whole pipeline through a real broker ({@link PipelinePhase});
 * (d) latency through the pipeline at half of (c)'s throughput, beside one exactly-once hop alone on the same
 * broker at the same rate ({@link LatencyPhase}); (e) feed capacity: (b) and (c) again with a near-zero-cost
 * model of the same contract and tokenizer ({@link FeedModel}), beside (t) the tokenizer alone on the same pairs
 * and cores ({@link TokenizerPhase}); and with {@code --peers-python}, (f) sentence-transformers and raw ONNX
 * Runtime from Python on the same model and pairs ({@link PeersPhase}). Prints a table ({@link BenchTable}) and
 * writes the figures as JSON.
 */
public final class BenchCommand {

    /**
     * @param queries     queries in the workload
     * @param candidates  candidates per query
     * @param threads     engine callers in (b) and stream threads in (c)
     * @param seed        workload seed
     * @param report      where to write the JSON report
     * @param overrides   configuration keys (model.dir, inference.*)
     * @param latencyQueries queries sent in (d): enough that p99 is not simply the maximum of a handful
     */
    public record Settings(int queries, int candidates, int threads, long seed, Optional<Path> report,
                           Map<String, String> overrides, Optional<String> bootstrap, Optional<Path> peersPython,
                           Optional<Path> minilmWeights, int latencyQueries) {

        /** (d)'s default: with 200 samples, p99 is the second largest, not the maximum. */
        public static final int DEFAULT_LATENCY_QUERIES = 200;

        /** With the embedded broker and no peers. */
        public Settings(int queries, int candidates, int threads, long seed, Optional<Path> report, Map<String, String> overrides) {
            this(queries, candidates, threads, seed, report, overrides, Optional.empty(), Optional.empty(), Optional.empty(),
                    DEFAULT_LATENCY_QUERIES);
        }
    }

    private final PrintStream out;

    public BenchCommand(PrintStream out) {
        this.out = out;
    }

    public int run(Settings settings) throws Exception {
        long started = System.nanoTime();
        Map<String, Object> base = new HashMap<>(settings.overrides());
        base.putIfAbsent("schema.registry.url", BenchEnvironment.REGISTRY);
        RerankerConfig config = new RerankerConfig(base);
        Path modelDir = config.modelDir().orElseGet(() -> settings.minilmWeights().isPresent()
                ? MiniLmBuild.dir(out, settings) : BundledModel.extract());
        ModelSpec spec = ModelDirectory.load(modelDir);
        InferenceOptions options = config.inferenceOptions();
        Optional<Path> med = BenchEnvironment.med();
        Workload workload = Workload.generate(settings.seed(), settings.queries(), settings.candidates(), med);
        int cores = Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "bench: model %s (%s), %d queries x %d candidates = %d pairs, vocabulary %s, %d cores, load average %.2f%n",
                spec.name(), spec.kind().configName(), settings.queries(), settings.candidates(), workload.pairs(),
                med.isPresent() ? "MED" : "built-in", cores, BenchEnvironment.loadAverage());

        ObjectNode report = header(settings, spec, modelDir, options, workload, cores);
        ObjectNode cpuByPhase = BenchEnvironment.JSON.createObjectNode();
        PipelinePhase pipelines = new PipelinePhase(out, settings, cpuByPhase);

        Phase raw = RawPhase.measure(out, spec, options, workload);
        report.set("raw", raw.json());
        Phase engine = EnginePhase.measure(out, spec, options, workload, settings.threads(), "engine");
        report.set("engine", engine.json());
        PipelineResult pipeline = pipelines.measure(modelDir, workload, true, "pipeline");
        report.set("pipeline", pipeline.throughput().json());
        report.set("latency", pipeline.latencyJson());
        report.put("pipeline_over_raw", pipeline.throughput().pairsPerSecond() / raw.pairsPerSecond());
        report.put("engine_over_raw", engine.pairsPerSecond() / raw.pairsPerSecond());
        report.put("execution_provider", raw.provider());

        Phase tokenizer = TokenizerPhase.measure(out, spec, options, workload, cores);
        report.set("tokenizer", tokenizer.json());
        List<Phase> feed = new ArrayList<>();
        Optional<Path> nullModel = FeedModel.of(modelDir, spec, out);
        if (nullModel.isPresent()) {
            ModelSpec nullSpec = ModelDirectory.load(nullModel.get());
            Phase feedEngine = EnginePhase.measure(out, nullSpec, options, workload, settings.threads(), "feed-engine");
            Phase feedPipeline = pipelines.measure(nullModel.get(), workload, false, "feed").throughput();
            feed.add(feedEngine);
            feed.add(feedPipeline);
            report.set("feed_engine", feedEngine.json());
            report.set("feed", feedPipeline.json());
            report.put("feed_over_tokenizer", feedPipeline.pairsPerSecond() / tokenizer.pairsPerSecond());
            report.put("feed_engine_over_tokenizer", feedEngine.pairsPerSecond() / tokenizer.pairsPerSecond());
        }
        Optional<Peers> peers = Optional.empty();
        if (settings.peersPython().isPresent()) {
            peers = Optional.of(PeersPhase.measure(out, settings, modelDir, spec, options, workload, cores));
            report.set("peers", peers.get().json());
            peers.get().ratios(report);
        }
        report.set("cpu", cpuByPhase);
        report.put("load_average_end", BenchEnvironment.loadAverage());
        report.put("seconds", (System.nanoTime() - started) / 1e9);

        BenchTable.print(out, raw, engine, pipeline, tokenizer, feed, peers);
        if (settings.report().isPresent()) {
            Files.writeString(settings.report().get(), BenchEnvironment.JSON.writeValueAsString(report));
            out.println("bench: report written to " + settings.report().get());
        }
        out.printf(Locale.ROOT, "bench: done in %.1f s, load average %.2f%n", (System.nanoTime() - started) / 1e9,
                BenchEnvironment.loadAverage());
        return 0;
    }

    /** The report's first keys: what was measured, on what. */
    private static ObjectNode header(Settings settings, ModelSpec spec, Path modelDir, InferenceOptions options, Workload workload, int cores) {
        ObjectNode report = BenchEnvironment.JSON.createObjectNode();
        report.put("model", spec.name());
        report.put("model_dir", modelDir.toString());
        report.put("queries", settings.queries());
        report.put("candidates_per_query", settings.candidates());
        report.put("pairs", workload.pairs());
        report.put("threads", settings.threads());
        report.put("seed", settings.seed());
        report.put("cores", cores);
        report.put("batch_max_rows", options.maxBatchRows());
        report.put("batch_max_tokens", options.maxBatchTokens());
        report.put("broker", settings.bootstrap().orElse("embedded"));
        report.put("load_average_start", BenchEnvironment.loadAverage());
        return report;
    }
}
