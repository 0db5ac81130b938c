package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.EngineStats;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.RawRunner;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.serde.AvroDeserializer;
import dev.kafkareranker.serde.AvroSerializer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code reranker bench}: one seeded workload, measured three ways on the same model and pairs:
 * (a) raw ONNX Runtime on ideal pre-tokenized batches, (b) the inference engine alone, fed by several
 * threads, (c) the whole pipeline through a real broker; then (d) latency through the pipeline at half
 * of (a)'s throughput.
 */
public final class BenchCommand {

    /**
     * @param queries     queries in the workload
     * @param candidates  candidates per query
     * @param threads     engine callers in (b) and stream threads in (c)
     * @param seed        workload seed
     * @param report      where to write the JSON report
     * @param overrides   configuration keys (model.dir, inference.*)
     */
    public record Settings(int queries, int candidates, int threads, long seed, Optional<Path> report,
                           Map<String, String> overrides) {}

    private static final String REGISTRY = "mock://reranker-bench";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final PrintStream out;

    public BenchCommand(PrintStream out) {
        this.out = out;
    }

    public int run(Settings settings) throws Exception {
        long started = System.nanoTime();
        Map<String, Object> base = new HashMap<>(settings.overrides());
        base.putIfAbsent("schema.registry.url", REGISTRY);
        RerankerConfig config = new RerankerConfig(base);
        Path modelDir = config.modelDir().orElseGet(BundledModel::extract);
        ModelSpec spec = ModelDirectory.load(modelDir);
        InferenceOptions options = config.inferenceOptions();
        Optional<Path> med = findMed();
        Workload workload = Workload.generate(settings.seed(), settings.queries(), settings.candidates(), med);
        int pairs = workload.pairs();
        out.printf(Locale.ROOT, "bench: model %s (%s), %d queries x %d candidates = %d pairs, vocabulary %s, %d cores%n",
                spec.name(), spec.kind().configName(), settings.queries(), settings.candidates(), pairs,
                med.isPresent() ? "MED" : "built-in", Runtime.getRuntime().availableProcessors());

        ObjectNode report = JSON.createObjectNode();
        report.put("model", spec.name());
        report.put("queries", settings.queries());
        report.put("candidates_per_query", settings.candidates());
        report.put("pairs", pairs);
        report.put("threads", settings.threads());
        report.put("seed", settings.seed());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("batch_max_rows", options.maxBatchRows());
        report.put("batch_max_tokens", options.maxBatchTokens());

        Phase raw = measureRaw(spec, options, workload);
        report.set("raw", raw.json());
        Phase engine = measureEngine(spec, options, workload, settings.threads());
        report.set("engine", engine.json());
        PipelineResult pipeline = measurePipeline(modelDir, settings, workload, raw.pairsPerSecond());
        report.set("pipeline", pipeline.throughput().json());
        report.set("latency", pipeline.latencyJson());
        report.put("pipeline_over_raw", pipeline.throughput().pairsPerSecond() / raw.pairsPerSecond());
        report.put("engine_over_raw", engine.pairsPerSecond() / raw.pairsPerSecond());
        report.put("execution_provider", raw.provider());
        report.put("seconds", (System.nanoTime() - started) / 1e9);

        printTable(raw, engine, pipeline);
        if (settings.report().isPresent()) {
            Files.writeString(settings.report().get(), JSON.writeValueAsString(report));
            out.println("bench: report written to " + settings.report().get());
        }
        out.printf(Locale.ROOT, "bench: done in %.1f s%n", (System.nanoTime() - started) / 1e9);
        return 0;
    }

    /** One measured phase. */
    record Phase(String name, int pairs, long realTokens, long nanos, double paddingRatio,
                 Map<Integer, Long> batchRows, String provider) {

        double pairsPerSecond() {
            return pairs / (nanos / 1e9);
        }

        double tokensPerSecond() {
            return realTokens / (nanos / 1e9);
        }

        ObjectNode json() {
            ObjectNode node = JSON.createObjectNode();
            node.put("pairs", pairs);
            node.put("seconds", nanos / 1e9);
            node.put("pairs_per_second", pairsPerSecond());
            node.put("tokens_per_second", tokensPerSecond());
            node.put("padding_ratio", paddingRatio);
            ObjectNode histogram = node.putObject("batch_rows_histogram");
            batchRows.forEach((rows, count) -> histogram.put(Integer.toString(rows), count));
            return node;
        }
    }

    private Phase measureRaw(ModelSpec spec, InferenceOptions options, Workload workload) {
        try (RawRunner runner = RawRunner.open(spec, options)) {
            List<RawRunner.Request> requests = new ArrayList<>();
            for (Workload.Query q : workload.queries()) {
                requests.add(new RawRunner.Request(q.text(), q.passages()));
            }
            RawRunner.Prepared prepared = runner.prepare(requests);
            // A whole untimed pass first: every batch shape is new to ONNX Runtime's allocator once.
            long firstPass = runner.run(prepared);
            long nanos = runner.run(prepared);
            out.printf(Locale.ROOT, "bench: (a) raw warm-up pass %.1f pairs/s%n", workload.pairs() / (firstPass / 1e9));
            out.printf(Locale.ROOT, "bench: (a) raw ONNX Runtime done: %.1f pairs/s%n", workload.pairs() / (nanos / 1e9));
            return new Phase("raw", workload.pairs(), prepared.realTokens(), nanos,
                    (double) prepared.paddedTokens() / prepared.realTokens(), prepared.batchRows(), runner.executionProvider());
        }
    }

    private Phase measureEngine(ModelSpec spec, InferenceOptions options, Workload workload, int threads) throws Exception {
        try (InferenceEngine engine = Scorers.open(spec, options)) {
            Workload.Query warm = workload.queries().get(0);
            engine.score(warm.text(), warm.passages());
            EngineStats.Snapshot before = engine.stats();
            AtomicInteger next = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            long start = System.nanoTime();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < workload.queries().size(); i = next.getAndIncrement()) {
                        Workload.Query q = workload.queries().get(i);
                        engine.score(q.text(), q.passages());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            long nanos = System.nanoTime() - start;
            pool.shutdown();
            EngineStats.Snapshot stats = engine.stats().minus(before);
            out.printf(Locale.ROOT, "bench: (b) engine alone done: %.1f pairs/s%n", workload.pairs() / (nanos / 1e9));
            return new Phase("engine", workload.pairs(), stats.realTokens(), nanos, stats.paddingRatio(), stats.batchRows(),
                    engine.executionProvider());
        }
    }

    record PipelineResult(Phase throughput, double targetQueriesPerSecond, Percentiles latencyMs, Percentiles addedMs,
                          Percentiles scoringMs, int latencyQueries, long commitIntervalMs) {

        ObjectNode latencyJson() {
            ObjectNode node = JSON.createObjectNode();
            node.put("queries", latencyQueries);
            node.put("offered_queries_per_second", targetQueriesPerSecond);
            node.put("commit_interval_ms", commitIntervalMs);
            put(node.putObject("last_candidate_to_result_ms"), latencyMs);
            put(node.putObject("scoring_ms"), scoringMs);
            put(node.putObject("added_ms"), addedMs);
            return node;
        }

        private static void put(ObjectNode node, Percentiles p) {
            node.put("p50", p.p50());
            node.put("p95", p.p95());
            node.put("p99", p.p99());
            node.put("max", p.max());
        }
    }

    private PipelineResult measurePipeline(Path modelDir, Settings settings, Workload workload, double rawPairsPerSecond)
            throws Exception {
        Topics topics = Topics.defaults();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, topics.candidates(), topics.results(), topics.deadLetters());
            Map<String, Object> props = new HashMap<>(settings.overrides());
            props.put("bootstrap.servers", kafka.bootstrapServers());
            props.put("schema.registry.url", REGISTRY);
            props.put("application.id", "reranker-bench");
            props.put(RerankerConfig.ADMIN_PORT, "0");
            props.put("state.dir", Files.createTempDirectory("reranker-bench-state").toString());
            props.put(RerankerConfig.MODEL_DIR, modelDir.toString());
            props.put("num.stream.threads", Integer.toString(settings.threads()));
            RerankerConfig config = new RerankerConfig(props);
            Object commitInterval = config.streamsProperties().getOrDefault("commit.interval.ms", "100 (exactly-once default)");
            try (RerankerApp app = RerankerApp.create(config);
                 ResultCollector collector = new ResultCollector(kafka.bootstrapServers(), topics.results())) {
                app.start();
                InferenceEngine engine = (InferenceEngine) app.scorer();  // the default model's current engine
                try (KafkaProducer<String, RetrievalCandidate> producer = producer(kafka.bootstrapServers())) {
                    // Warm-up query: the first transaction and the first model run are not the steady state.
                    Workload.Query warm = new Workload.Query("warm-up", workload.queries().get(0).text(),
                            workload.queries().get(0).passages().subList(0, 5));
                    send(producer, topics, workload.candidates(warm));
                    collector.await(1, Duration.ofMinutes(2));

                    EngineStats.Snapshot before = engine.stats();
                    long start = System.nanoTime();
                    for (Workload.Query q : workload.queries()) {
                        send(producer, topics, workload.candidates(q));
                    }
                    collector.await(1 + workload.queries().size(), Duration.ofMinutes(10));
                    long nanos = System.nanoTime() - start;
                    EngineStats.Snapshot stats = engine.stats().minus(before);
                    Phase throughput = new Phase("pipeline", workload.pairs(), stats.realTokens(), nanos, stats.paddingRatio(),
                            stats.batchRows(), engine.executionProvider());
                    out.printf(Locale.ROOT, "bench: (c) pipeline done: %.1f pairs/s%n", throughput.pairsPerSecond());

                    // Half of peak: the engine is busy half the time, so queueing shows without saturation.
                    double queriesPerSecond = 0.5 * rawPairsPerSecond / settings.candidates();
                    long intervalNanos = (long) (1e9 / queriesPerSecond);
                    Map<String, Long> lastSent = new ConcurrentHashMap<>();
                    // Enough queries that p99 is not simply the maximum of a handful.
                    int latencyQueries = Math.max(60, workload.queries().size());
                    long next = System.nanoTime();
                    for (int i = 0; i < latencyQueries; i++) {
                        Workload.Query base = workload.queries().get(i % workload.queries().size());
                        Workload.Query q = new Workload.Query(base.id() + "-lat" + i, base.text(), base.passages());
                        while (System.nanoTime() < next) {
                            Thread.sleep(1);
                        }
                        List<RetrievalCandidate> candidates = workload.candidates(q);
                        send(producer, topics, candidates.subList(0, candidates.size() - 1));
                        lastSent.put(q.id(), System.nanoTime());
                        send(producer, topics, candidates.subList(candidates.size() - 1, candidates.size()));
                        next += intervalNanos;
                    }
                    collector.await(1 + workload.queries().size() + latencyQueries, Duration.ofMinutes(10));
                    double[] latency = new double[latencyQueries];
                    double[] added = new double[latencyQueries];
                    double[] scoring = new double[latencyQueries];
                    int i = 0;
                    for (Map.Entry<String, Long> e : lastSent.entrySet()) {
                        ResultCollector.Received r = collector.received().get(e.getKey());
                        latency[i] = (r.nanos() - e.getValue()) / 1e6;
                        scoring[i] = r.scoringMs();
                        added[i] = latency[i] - r.scoringMs();
                        i++;
                    }
                    out.printf(Locale.ROOT, "bench: (d) latency at %.2f queries/s done%n", queriesPerSecond);
                    return new PipelineResult(throughput, queriesPerSecond, Percentiles.of(latency), Percentiles.of(added),
                            Percentiles.of(scoring), latencyQueries, parseLong(commitInterval));
                }
            }
        }
    }

    private static long parseLong(Object value) {
        try {
            return Long.parseLong(value.toString());
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    private static KafkaProducer<String, RetrievalCandidate> producer(String bootstrap) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", REGISTRY), false);
        // linger 0: the latency phase measures the pipeline, not the producer's batching.
        return new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "linger.ms", 0), new StringSerializer(), serializer);
    }

    private static void send(KafkaProducer<String, RetrievalCandidate> producer, Topics topics, List<RetrievalCandidate> candidates) {
        for (RetrievalCandidate c : candidates) {
            producer.send(new ProducerRecord<>(topics.candidates(), c.getQueryId(), c));
        }
        producer.flush();
    }

    /** Reads results (read_committed) on its own thread, noting when each arrived. */
    private static final class ResultCollector implements AutoCloseable {
        record Received(long nanos, long scoringMs) {}

        private final Map<String, Received> received = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        ResultCollector(String bootstrap, String topic) {
            AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
            deserializer.configure(Map.of("schema.registry.url", REGISTRY, "specific.avro.reader", true), false);
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", bootstrap);
            props.put("group.id", "bench-results");
            props.put("auto.offset.reset", "earliest");
            props.put("isolation.level", "read_committed");
            KafkaConsumer<String, RankedResults> consumer = new KafkaConsumer<>(props, new StringDeserializer(), deserializer);
            consumer.subscribe(List.of(topic));
            thread = new Thread(() -> {
                try (consumer) {
                    while (running.get()) {
                        for (ConsumerRecord<String, RankedResults> r : consumer.poll(Duration.ofMillis(5))) {
                            received.putIfAbsent(r.key(), new Received(System.nanoTime(), r.value().getScoringMs()));
                        }
                    }
                }
            }, "bench-results");
            thread.start();
        }

        Map<String, Received> received() {
            return received;
        }

        void await(int count, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (received.size() < count) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("bench: only " + received.size() + " of " + count + " results arrived in " + timeout);
                }
                Thread.sleep(2);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    private void printTable(Phase raw, Phase engine, PipelineResult pipeline) {
        out.println();
        out.println("| phase | pairs/s | tokens/s | vs raw | padding ratio | batch rows (count) |");
        out.println("|---|---:|---:|---:|---:|---|");
        for (Phase p : List.of(raw, engine, pipeline.throughput())) {
            out.printf(Locale.ROOT, "| %s | %.1f | %.0f | %.3f | %.3f | %s |%n", p.name(), p.pairsPerSecond(), p.tokensPerSecond(),
                    p.pairsPerSecond() / raw.pairsPerSecond(), p.paddingRatio(), p.batchRows());
        }
        out.println();
        out.printf(Locale.ROOT, "latency at %.2f queries/s (half of raw peak), %d queries, commit.interval.ms=%d:%n",
                pipeline.targetQueriesPerSecond(), pipeline.latencyQueries(), pipeline.commitIntervalMs());
        out.println("| ms | p50 | p95 | p99 | max |");
        out.println("|---|---:|---:|---:|---:|");
        row("last candidate -> result", pipeline.latencyMs());
        row("scoring (model)", pipeline.scoringMs());
        row("added (latency - scoring)", pipeline.addedMs());
        out.println();
    }

    private void row(String name, Percentiles p) {
        out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f |%n", name, p.p50(), p.p95(), p.p99(), p.max());
    }

    private static Optional<Path> findMed() {
        for (Path candidate : new Path[] {Path.of("..", "shared", "data", "med"), Path.of("..", "..", "shared", "data", "med")}) {
            if (Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

}
