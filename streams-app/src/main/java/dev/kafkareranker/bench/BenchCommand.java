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
 * {@code reranker bench}: one seeded workload, measured on the same model and pairs:
 * (a) raw ONNX Runtime on ideal pre-tokenized batches, (b) the inference engine alone, fed by several
 * threads, (c) the whole pipeline through a real broker (embedded, or {@code --bootstrap}'s); (d) latency
 * through the pipeline at half of (c)'s throughput, beside one exactly-once hop alone on the same broker at
 * the same rate (ExactlyOnceHop: the floor under the added latency); (e) feed capacity: (b) and (c) again with a
 * near-zero-cost model of the same contract and tokenizer, beside (t) the tokenizer alone on the same
 * pairs and cores; and with {@code --peers-python}, (f) sentence-transformers' CrossEncoder.predict and
 * raw ONNX Runtime from Python on the same model and pairs, beside this project's fp32 and int8 on the
 * same globally length-sorted batches of 32.
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
                           Map<String, String> overrides, Optional<String> bootstrap, Optional<Path> peersPython,
                           Optional<Path> minilmWeights) {

        /** With the embedded broker and no peers. */
        public Settings(int queries, int candidates, int threads, long seed, Optional<Path> report, Map<String, String> overrides) {
            this(queries, candidates, threads, seed, report, overrides, Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    private static final String REGISTRY = "mock://reranker-bench";
    /** Twice the bench's 4 partitions: keys spread by hash, so this many reach every partition with high odds. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final PrintStream out;
    /** Most untimed passes before a pipeline phase's timed one (see measurePipeline). */
    private static final int WARM_UP_PASSES = 3;
    /**
     * A pipeline phase is warm once the JIT's compilers were busy for less than this share of a pass. Not lower:
     * with 3% and up to 6 passes (2026-12-02) the compilers never got there (11-43% in the sixth pass of the
     * fixture's (c) and (e)), the timed (e) pass still had 0.55-0.91 CPU s of JIT and native threads against
     * 0.43-0.96 s with this, and the bench took longer. The JVM's compilers keep compiling what a 2-core
     * machine gives them little time for; a longer-lived JVM is the way to leave them out.
     */
    private static final double WARM_JIT_SHARE = 0.1;
    /** Where each measured phase's CPU went ({@link CpuAccount}), reported as "cpu". */
    private final ObjectNode cpuByPhase = JSON.createObjectNode();

    public BenchCommand(PrintStream out) {
        this.out = out;
    }

    public int run(Settings settings) throws Exception {
        long started = System.nanoTime();
        Map<String, Object> base = new HashMap<>(settings.overrides());
        base.putIfAbsent("schema.registry.url", REGISTRY);
        RerankerConfig config = new RerankerConfig(base);
        Optional<Path> tools = findTools();
        Path modelDir = config.modelDir().orElseGet(() -> settings.minilmWeights().isPresent()
                ? buildMiniLm(settings, tools) : BundledModel.extract());
        ModelSpec spec = ModelDirectory.load(modelDir);
        InferenceOptions options = config.inferenceOptions();
        Optional<Path> med = findMed();
        Workload workload = Workload.generate(settings.seed(), settings.queries(), settings.candidates(), med);
        int pairs = workload.pairs();
        int cores = Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "bench: model %s (%s), %d queries x %d candidates = %d pairs, vocabulary %s, %d cores, load average %.2f%n",
                spec.name(), spec.kind().configName(), settings.queries(), settings.candidates(), pairs,
                med.isPresent() ? "MED" : "built-in", cores, loadAverage());

        ObjectNode report = JSON.createObjectNode();
        report.put("model", spec.name());
        report.put("model_dir", modelDir.toString());
        report.put("queries", settings.queries());
        report.put("candidates_per_query", settings.candidates());
        report.put("pairs", pairs);
        report.put("threads", settings.threads());
        report.put("seed", settings.seed());
        report.put("cores", cores);
        report.put("batch_max_rows", options.maxBatchRows());
        report.put("batch_max_tokens", options.maxBatchTokens());
        report.put("broker", settings.bootstrap().orElse("embedded"));
        report.put("load_average_start", loadAverage());

        Phase raw = measureRaw(spec, options, workload);
        report.set("raw", raw.json());
        Phase engine = measureEngine(spec, options, workload, settings.threads(), "engine");
        report.set("engine", engine.json());
        PipelineResult pipeline = measurePipeline(modelDir, settings, workload, true, "pipeline");
        report.set("pipeline", pipeline.throughput().json());
        report.set("latency", pipeline.latencyJson());
        report.put("pipeline_over_raw", pipeline.throughput().pairsPerSecond() / raw.pairsPerSecond());
        report.put("engine_over_raw", engine.pairsPerSecond() / raw.pairsPerSecond());
        report.put("execution_provider", raw.provider());

        Phase tokenizer = measureTokenizer(spec, options, workload, cores);
        report.set("tokenizer", tokenizer.json());
        List<Phase> feed = new ArrayList<>();
        Optional<Path> nullModel = nullModel(modelDir, spec);
        if (nullModel.isPresent()) {
            ModelSpec nullSpec = ModelDirectory.load(nullModel.get());
            Phase feedEngine = measureEngine(nullSpec, options, workload, settings.threads(), "feed-engine");
            PipelineResult feedPipeline = measurePipeline(nullModel.get(), settings, workload, false, "feed");
            feed.add(feedEngine);
            feed.add(feedPipeline.throughput());
            report.set("feed_engine", feedEngine.json());
            report.set("feed", feedPipeline.throughput().json());
            report.put("feed_over_tokenizer", feedPipeline.throughput().pairsPerSecond() / tokenizer.pairsPerSecond());
            report.put("feed_engine_over_tokenizer", feedEngine.pairsPerSecond() / tokenizer.pairsPerSecond());
        }
        Optional<Peers> peers = Optional.empty();
        if (settings.peersPython().isPresent()) {
            peers = Optional.of(measurePeers(settings, tools, modelDir, spec, options, workload, cores));
            report.set("peers", peers.get().json());
            peers.get().ratios(report);
        }
        report.set("cpu", cpuByPhase);
        report.put("load_average_end", loadAverage());
        report.put("seconds", (System.nanoTime() - started) / 1e9);

        printTable(raw, engine, pipeline, tokenizer, feed, peers);
        if (settings.report().isPresent()) {
            Files.writeString(settings.report().get(), JSON.writeValueAsString(report));
            out.println("bench: report written to " + settings.report().get());
        }
        out.printf(Locale.ROOT, "bench: done in %.1f s, load average %.2f%n", (System.nanoTime() - started) / 1e9, loadAverage());
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
            List<RawRunner.Request> requests = requests(workload);
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

    private Phase measureEngine(ModelSpec spec, InferenceOptions options, Workload workload, int threads, String name) throws Exception {
        try (InferenceEngine engine = Scorers.open(spec, options)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            // An untimed pass first, as the pipeline phases have: the JIT compiles the engine's paths.
            scoreAll(engine, workload, threads, pool);
            EngineStats.Snapshot before = engine.stats();
            long start = System.nanoTime();
            scoreAll(engine, workload, threads, pool);
            long nanos = System.nanoTime() - start;
            pool.shutdown();
            EngineStats.Snapshot stats = engine.stats().minus(before);
            out.printf(Locale.ROOT, "bench: (%s) %s alone done: %.1f pairs/s%n", name.equals("engine") ? "b" : "e", name,
                    workload.pairs() / (nanos / 1e9));
            return new Phase(name, workload.pairs(), stats.realTokens(), nanos, stats.paddingRatio(), stats.batchRows(),
                    engine.executionProvider());
        }
    }

    /** Time the JIT's compilers have spent so far, summed over its threads; 0 where the JVM does not say. */
    private static long compileMs() {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /** Every query of the workload through {@code engine}, from {@code threads} callers. */
    private static void scoreAll(InferenceEngine engine, Workload workload, int threads, ExecutorService pool) throws Exception {
        AtomicInteger next = new AtomicInteger();
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
    }

    /**
     * @param toGathererMs last candidate sent until its query left gathering (the result's emitted_time): the
     *                     producer, the intake and its transaction, the repartition topic, a busy stream thread
     * @param resultHopMs  scored until the result was read: forwarding, the result's transaction, the reader
     * @param exactlyOnceHopMs one exactly-once hop alone on the same broker at the same rate (ExactlyOnceHop): the floor
     */
    record PipelineResult(Phase throughput, double targetQueriesPerSecond, Percentiles latencyMs, Percentiles addedMs,
                          Percentiles scoringMs, Percentiles toGathererMs, Percentiles resultHopMs, Percentiles exactlyOnceHopMs,
                          int latencyQueries, long commitIntervalMs) {

        ObjectNode latencyJson() {
            ObjectNode node = JSON.createObjectNode();
            node.put("queries", latencyQueries);
            node.put("offered_queries_per_second", targetQueriesPerSecond);
            node.put("commit_interval_ms", commitIntervalMs);
            put(node.putObject("last_candidate_to_result_ms"), latencyMs);
            put(node.putObject("scoring_ms"), scoringMs);
            put(node.putObject("added_ms"), addedMs);
            put(node.putObject("last_candidate_to_emitted_ms"), toGathererMs);
            put(node.putObject("scored_to_result_ms"), resultHopMs);
            put(node.putObject("exactly_once_hop_ms"), exactlyOnceHopMs);
            return node;
        }

        private static void put(ObjectNode node, Percentiles p) {
            node.put("p50", p.p50());
            node.put("p95", p.p95());
            node.put("p99", p.p99());
            node.put("max", p.max());
        }
    }

    /** A broker for one pipeline phase: the embedded one, or an external one that outlives the bench. */
    private record Broker(String bootstrapServers, EmbeddedKafka embedded) implements AutoCloseable {
        static Broker open(Optional<String> external) {
            return external.map(b -> new Broker(b, null)).orElseGet(() -> {
                EmbeddedKafka kafka = EmbeddedKafka.start();
                return new Broker(kafka.bootstrapServers(), kafka);
            });
        }

        void createTopics(int partitions, String... names) throws Exception {
            if (embedded != null) {
                embedded.createTopics(partitions, names);
                return;
            }
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    Map.of("bootstrap.servers", bootstrapServers))) {
                List<org.apache.kafka.clients.admin.NewTopic> topics = new ArrayList<>();
                for (String name : names) {
                    topics.add(new org.apache.kafka.clients.admin.NewTopic(name, Optional.of(partitions), Optional.empty()));
                }
                admin.createTopics(topics).all().get();
            }
        }

        @Override
        public void close() {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    private PipelineResult measurePipeline(Path modelDir, Settings settings, Workload workload,
                                           boolean withLatency, String name) throws Exception {
        // Fresh names on an external broker: an earlier run's records and committed offsets must not count.
        String run = settings.bootstrap().isPresent() ? "-" + name + "-" + Long.toHexString(System.nanoTime()) : "";
        Topics topics = settings.bootstrap().isPresent()
                ? new Topics("bench" + run + "-candidates", "bench" + run + "-results", "bench" + run + "-dlq") : Topics.defaults();
        try (Broker kafka = Broker.open(settings.bootstrap())) {
            kafka.createTopics(4, topics.candidates(), topics.results(), topics.deadLetters());
            Map<String, Object> props = new HashMap<>(settings.overrides());
            props.put("bootstrap.servers", kafka.bootstrapServers());
            props.put("schema.registry.url", REGISTRY);
            props.put("application.id", "reranker-bench" + run);
            props.put(RerankerConfig.TOPIC_CANDIDATES, topics.candidates());
            props.put(RerankerConfig.TOPIC_RESULTS, topics.results());
            props.put(RerankerConfig.TOPIC_DEAD_LETTERS, topics.deadLetters());
            props.put(RerankerConfig.ADMIN_PORT, "0");
            props.put("state.dir", Files.createTempDirectory("reranker-bench-state").toString());
            props.put(RerankerConfig.MODEL_DIR, modelDir.toString());
            // Every query's candidates are sent at once: a query emitted incomplete after the default 5 s (a slow model on a
            // loaded machine) would count pairs never scored and dead-letter the rest as late.
            props.putIfAbsent(RerankerConfig.GATHER_MAX_WAIT_MS, "600000");
            props.put("num.stream.threads", Integer.toString(settings.threads()));
            RerankerConfig config = new RerankerConfig(props);
            Object commitInterval = config.streamsProperties().getOrDefault("commit.interval.ms", "100 (exactly-once default)");
            try (RerankerApp app = RerankerApp.create(config);
                 ResultCollector collector = new ResultCollector(kafka.bootstrapServers(), topics.results(), "bench-results" + run)) {
                app.start();
                InferenceEngine engine = (InferenceEngine) app.scorer();  // the default model's current engine
                try (KafkaProducer<String, RetrievalCandidate> producer = producer(kafka.bootstrapServers())) {
                    // Untimed passes of the whole workload first, under other query ids: every partition (so every
                    // stream thread) sees queries, each thread's first transactions are behind it, and the JIT has
                    // compiled the pipeline's paths. One pass was not enough where the model keeps both cores busy:
                    // the JIT's compiler threads get little CPU and their backlog ran on into the timed pass (2.6 of
                    // 24 CPU seconds of a MiniLM (c) phase). So passes go on until the compilers were busy for less
                    // than WARM_JIT_SHARE of the last pass's time, at most WARM_UP_PASSES.
                    int warmUp = 0;
                    for (int pass = 1; pass <= WARM_UP_PASSES; pass++) {
                        long compileMs = compileMs();
                        long passStart = System.nanoTime();
                        for (Workload.Query q : workload.queries()) {
                            send(producer, topics, workload.candidates(new Workload.Query("warm-up-" + pass + "-" + q.id(), q.text(), q.passages())));
                        }
                        warmUp += workload.queries().size();
                        collector.await(warmUp, Duration.ofMinutes(10));
                        double compiling = (compileMs() - compileMs) / ((System.nanoTime() - passStart) / 1e6);
                        out.printf(Locale.ROOT, "bench: (%s) %s warm-up pass %d: JIT compiling %.0f%% of the time%n", withLatency ? "c" : "e",
                                name, pass, 100 * compiling);
                        if (compiling < WARM_JIT_SHARE) {
                            break;
                        }
                    }

                    EngineStats.Snapshot before = engine.stats();
                    CpuAccount cpu = CpuAccount.start();
                    long start = System.nanoTime();
                    for (Workload.Query q : workload.queries()) {
                        send(producer, topics, workload.candidates(q));
                    }
                    collector.await(warmUp + workload.queries().size(), Duration.ofMinutes(10));
                    long nanos = System.nanoTime() - start;
                    cpuByPhase.set(name, cpu.stop(JSON));
                    EngineStats.Snapshot stats = engine.stats().minus(before);
                    // Pairs the model scored, not pairs sent: what the pipeline did in that time.
                    Phase throughput = new Phase(name, (int) stats.rows(), stats.realTokens(), nanos, stats.paddingRatio(),
                            stats.batchRows(), engine.executionProvider());
                    out.printf(Locale.ROOT, "bench: (%s) %s done: %.1f pairs/s, load average %.2f%n", withLatency ? "c" : "e", name,
                            throughput.pairsPerSecond(), loadAverage());
                    if (!withLatency) {
                        Percentiles none = Percentiles.of(new double[] {0});
                        return new PipelineResult(throughput, 0, none, none, none, none, none, none, 0, parseLong(commitInterval));
                    }

                    // Half of the pipeline's own peak (c), so queueing shows without saturation; half of raw (a) would overload a
                    // pipeline slower than half of raw, and the latency would then be the backlog's, not the pipeline's.
                    double queriesPerSecond = 0.5 * throughput.pairsPerSecond() / settings.candidates();
                    long intervalNanos = (long) (1e9 / queriesPerSecond);
                    // When each query's last candidate was sent, on both clocks: nanos against the reader's, wall time against
                    // the app's emitted_time.
                    record Sent(long nanos, long wallMs) {}
                    Map<String, Sent> lastSent = new ConcurrentHashMap<>();
                    // Enough queries that p99 is not simply the maximum of a handful (-Dbench.latency.queries=200 and up: p99 is
                    // then not the maximum).
                    int latencyQueries = Math.max(Integer.getInteger("bench.latency.queries", 60), workload.queries().size());
                    long next = System.nanoTime();
                    for (int i = 0; i < latencyQueries; i++) {
                        Workload.Query base = workload.queries().get(i % workload.queries().size());
                        Workload.Query q = new Workload.Query(base.id() + "-lat" + i, base.text(), base.passages());
                        while (System.nanoTime() < next) {
                            Thread.sleep(1);
                        }
                        List<RetrievalCandidate> candidates = workload.candidates(q);
                        send(producer, topics, candidates.subList(0, candidates.size() - 1));
                        lastSent.put(q.id(), new Sent(System.nanoTime(), System.currentTimeMillis()));
                        send(producer, topics, candidates.subList(candidates.size() - 1, candidates.size()));
                        next += intervalNanos;
                    }
                    collector.await(warmUp + workload.queries().size() + latencyQueries, Duration.ofMinutes(10));
                    double[] latency = new double[latencyQueries];
                    double[] added = new double[latencyQueries];
                    double[] scoring = new double[latencyQueries];
                    // The app's clock is this JVM's (or, with --bootstrap, the same machine's): emitted_time splits the latency.
                    double[] toGatherer = new double[latencyQueries];
                    double[] resultHop = new double[latencyQueries];
                    int i = 0;
                    for (Map.Entry<String, Sent> e : lastSent.entrySet()) {
                        ResultCollector.Received r = collector.received().get(e.getKey());
                        latency[i] = (r.nanos() - e.getValue().nanos()) / 1e6;
                        scoring[i] = r.scoringMs();
                        added[i] = latency[i] - r.scoringMs();
                        toGatherer[i] = r.emittedWallMs() - e.getValue().wallMs();
                        resultHop[i] = r.wallMs() - (r.emittedWallMs() + r.scoringMs());
                        i++;
                    }
                    out.printf(Locale.ROOT, "bench: (d) latency at %.2f queries/s done%n", queriesPerSecond);
                    String hopSource = "bench" + run + "-hop-source";
                    String hopSink = "bench" + run + "-hop-sink";
                    kafka.createTopics(1, hopSource, hopSink);
                    double[] hop;
                    try {
                        hop = ExactlyOnceHop.measure(kafka.bootstrapServers(), hopSource, hopSink, latencyQueries, intervalNanos);
                        out.printf(Locale.ROOT, "bench: (d) one exactly-once hop alone, at the same rate, done%n");
                    } catch (RuntimeException e) {
                        // A reference beside (d), not (d) itself: its failure leaves (c) and (d) as measured, and says so.
                        out.printf(Locale.ROOT, "bench: (d) one exactly-once hop alone failed, reported as NaN: %s%n", e);
                        hop = new double[0];
                    }
                    return new PipelineResult(throughput, queriesPerSecond, Percentiles.of(latency), Percentiles.of(added),
                            Percentiles.of(scoring), Percentiles.of(toGatherer), Percentiles.of(resultHop), Percentiles.of(hop),
                            latencyQueries, parseLong(commitInterval));
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
        record Received(long nanos, long wallMs, long scoringMs, long emittedWallMs) {}

        private final Map<String, Received> received = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        ResultCollector(String bootstrap, String topic, String group) {
            AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
            deserializer.configure(Map.of("schema.registry.url", REGISTRY, "specific.avro.reader", true), false);
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", bootstrap);
            props.put("group.id", group);
            props.put("auto.offset.reset", "earliest");
            props.put("isolation.level", "read_committed");
            KafkaConsumer<String, RankedResults> consumer = new KafkaConsumer<>(props, new StringDeserializer(), deserializer);
            consumer.subscribe(List.of(topic));
            thread = new Thread(() -> {
                try (consumer) {
                    while (running.get()) {
                        // poll returns as soon as a fetch brings records, so the timeout only bounds how long close
                        // waits; a short one (5 ms before) made the reader poll 200 times a second, 0.37 CPU s of a
                        // 24 s pass on the app's core, all of it the bench's and none the pipeline's.
                        for (ConsumerRecord<String, RankedResults> r : consumer.poll(Duration.ofMillis(200))) {
                            received.putIfAbsent(r.key(), new Received(System.nanoTime(), System.currentTimeMillis(), r.value().getScoringMs(),
                                    r.value().getEmittedTime().toEpochMilli()));
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

    private void printTable(Phase raw, Phase engine, PipelineResult pipeline, Phase tokenizer, List<Phase> feed, Optional<Peers> peers) {
        out.println();
        out.println("| phase | pairs/s | tokens/s | vs raw | padding ratio | batch rows (count) |");
        out.println("|---|---:|---:|---:|---:|---|");
        List<Phase> phases = new ArrayList<>(List.of(raw, engine, pipeline.throughput()));
        phases.addAll(feed);
        phases.add(tokenizer);
        for (Phase p : phases) {
            out.printf(Locale.ROOT, "| %s | %.1f | %.0f | %.3f | %.3f | %s |%n", p.name(), p.pairsPerSecond(), p.tokensPerSecond(),
                    p.pairsPerSecond() / raw.pairsPerSecond(), p.paddingRatio(), p.batchRows());
        }
        if (feed.size() == 2) {
            out.printf(Locale.ROOT, "%nfeed_over_tokenizer %.3f (feed-engine over tokenizer %.3f)%n",
                    feed.get(1).pairsPerSecond() / tokenizer.pairsPerSecond(), feed.get(0).pairsPerSecond() / tokenizer.pairsPerSecond());
        }
        peers.ifPresent(p -> p.print(out));
        out.println();
        out.printf(Locale.ROOT, "latency at %.2f queries/s (half of the pipeline's peak), %d queries, commit.interval.ms=%d:%n",
                pipeline.targetQueriesPerSecond(), pipeline.latencyQueries(), pipeline.commitIntervalMs());
        out.println("| ms | p50 | p95 | p99 | max |");
        out.println("|---|---:|---:|---:|---:|");
        row("last candidate -> result", pipeline.latencyMs());
        row("scoring (model)", pipeline.scoringMs());
        row("added (latency - scoring)", pipeline.addedMs());
        row("  of which: last candidate -> left gathering", pipeline.toGathererMs());
        row("  of which: scored -> result read", pipeline.resultHopMs());
        row("one exactly-once hop alone (the floor)", pipeline.exactlyOnceHopMs());
        out.println();
    }

    /** (t): the tokenizer alone, on the same pairs, one thread per core. */
    private Phase measureTokenizer(ModelSpec spec, InferenceOptions options, Workload workload, int cores) throws InterruptedException {
        try (RawRunner runner = RawRunner.open(spec, options)) {
            List<RawRunner.Request> requests = requests(workload);
            runner.tokenize(requests, cores);  // an untimed pass first, as every other phase has
            RawRunner.Tokenized t = runner.tokenize(requests, cores);
            out.printf(Locale.ROOT, "bench: (t) tokenizer alone on %d threads: %.1f pairs/s%n", cores, workload.pairs() / (t.nanos() / 1e9));
            return new Phase("tokenizer", workload.pairs(), t.tokens(), t.nanos(), 1.0, Map.of(), "none");
        }
    }

    private static List<RawRunner.Request> requests(Workload workload) {
        List<RawRunner.Request> requests = new ArrayList<>();
        for (Workload.Query q : workload.queries()) {
            requests.add(new RawRunner.Request(q.text(), q.passages()));
        }
        return requests;
    }

    /**
     * The model directory with its ONNX files replaced by the near-zero-cost graph (tools/reranker_tools/
     * null_model.py): same tokenizer, settings and contract, so only the model's own cost is gone.
     * Cross-encoders only: the graph returns [batch, 1] logits.
     */
    Optional<Path> nullModel(Path modelDir, ModelSpec spec) throws IOException {
        if (spec.kind() != dev.kafkareranker.model.ModelKind.CROSS_ENCODER) {
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
        try (var in = BenchCommand.class.getResourceAsStream("null-cross-encoder.onnx")) {
            if (in == null) {
                throw new IllegalStateException("null-cross-encoder.onnx is missing from the bench's resources (rebuild streams-app)");
            }
            Files.copy(in, dir.resolve("model.onnx"));
        }
        return Optional.of(dir);
    }

    private static Optional<Path> findTools() {
        for (Path candidate : new Path[] {Path.of("tools"), Path.of("..", "tools")}) {
            if (Files.isDirectory(candidate.resolve("reranker_tools"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Path requireTools(Optional<Path> tools) {
        return tools.orElseThrow(() -> new IllegalStateException("bench: --peers-python and --minilm-weights need the repository's "
                + "tools/ (run the bench from the repository root)"));
    }

    /** Where built bench models are cached between runs: never in the repository (90 MB). */
    private static Path cacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "kafka-reranker", "bench");
    }

    /**
     * The MiniLM-L6-H384 cross-encoder, built once into the cache by tools/reranker_tools/minilm_cross_encoder.py.
     * The folder's name carries the build's version and whether its head was fitted on MED, so a build of an
     * older version (the random head of version 1 sat in "minilm-l6-cross-encoder") is never reused.
     */
    private Path buildMiniLm(Settings settings, Optional<Path> tools) {
        Optional<Path> med = findMed();
        Path outDir = cacheDir().resolve(MINILM_BUILD + (med.isPresent() ? "-med-head" : "-random-head"));
        if (Files.isRegularFile(outDir.resolve("model.int8.onnx"))) {
            return outDir;
        }
        Path python = settings.peersPython().orElseThrow(() -> new IllegalStateException(
                "bench: --minilm-weights needs --peers-python (the tools' venv python, with torch and transformers)"));
        out.println("bench: building the MiniLM cross-encoder into " + outDir + (med.isPresent() ? ", its head fitted on MED"
                : ", with a random head: ../shared/data/med is absent, so (f)'s int8 order check compares noise"));
        List<String> args = new ArrayList<>(List.of("-m", "reranker_tools.minilm_cross_encoder", "--weights",
                settings.minilmWeights().get().toAbsolutePath().toString(), "--out", outDir.toAbsolutePath().toString()));
        med.ifPresent(dir -> args.addAll(List.of("--med", dir.toAbsolutePath().toString())));
        python(python, requireTools(tools), args);
        return outDir;
    }

    /** minilm_cross_encoder.py's VERSION: bump both together when the build changes. */
    private static final String MINILM_BUILD = "minilm-l6-cross-encoder-v2";

    private void python(Path python, Path tools, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(python.toString());
        command.addAll(args);
        try {
            Process process = new ProcessBuilder(command).directory(tools.toFile()).redirectErrorStream(true).start();
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8))) {
                lines.lines().forEach(line -> out.println("  " + line));
            }
            int code = process.waitFor();
            if (code != 0) {
                throw new IllegalStateException("bench: " + String.join(" ", command) + " exited with " + code);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("bench: cannot run " + python + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench: interrupted while running " + python, e);
        }
    }

    /**
     * How far int8's scores are from fp32's on the same pairs: per query, whether the top 10 is fp32's in the
     * same order, whether it is the same set, and the absolute score differences over all pairs.
     */
    record Int8Agreement(int queries, int sameOrder, int sameSet, double meanAbsError, double maxAbsError) {

        double sameOrderFraction() {
            return (double) sameOrder / queries;
        }

        double sameSetFraction() {
            return (double) sameSet / queries;
        }
    }

    /** (f): the peers' figures and this project's on the same sorted batches, and on which pairs. */
    record Peers(com.fasterxml.jackson.databind.JsonNode python, Phase fp32, Phase int8, Int8Agreement agreement, String pairs) {

        private double pairsPerSecond(String peer) {
            return python.path(peer).path("pairs_per_second").asDouble(Double.NaN);
        }

        ObjectNode json() {
            ObjectNode node = JSON.createObjectNode();
            node.put("pairs_source", pairs);
            node.set("python", python);
            node.set("java_fp32", fp32.json());
            if (int8 != null) {
                node.set("java_int8", int8.json());
                node.put("int8_top10_same_order_fraction", agreement.sameOrderFraction());
                node.put("int8_top10_same_set_fraction", agreement.sameSetFraction());
                node.put("int8_top10_queries", agreement.queries());
                node.put("int8_mean_abs_score_error", agreement.meanAbsError());
                node.put("int8_max_abs_score_error", agreement.maxAbsError());
            }
            return node;
        }

        void ratios(ObjectNode report) {
            double st = pairsPerSecond("sentence_transformers");
            report.put("fp32_over_sentence_transformers", fp32.pairsPerSecond() / st);
            report.put("onnxruntime_python_over_sentence_transformers", pairsPerSecond("onnxruntime_python_fp32") / st);
            report.put("fp32_over_onnxruntime_python", fp32.pairsPerSecond() / pairsPerSecond("onnxruntime_python_fp32"));
            if (int8 != null) {
                report.put("int8_over_sentence_transformers", int8.pairsPerSecond() / st);
            }
        }

        void print(PrintStream out) {
            double st = pairsPerSecond("sentence_transformers");
            out.println();
            out.println("(f) pairs: " + pairs);
            out.println("| peer (same model, pairs, threads; length-sorted batches of 32) | pairs/s | over sentence-transformers |");
            out.println("|---|---:|---:|");
            for (String peer : List.of("sentence_transformers", "onnxruntime_python_fp32", "onnxruntime_python_int8")) {
                if (python.has(peer)) {
                    out.printf(Locale.ROOT, "| %s | %.1f | %.3f |%n", peer, pairsPerSecond(peer), pairsPerSecond(peer) / st);
                }
            }
            out.printf(Locale.ROOT, "| this project fp32 | %.1f | %.3f |%n", fp32.pairsPerSecond(), fp32.pairsPerSecond() / st);
            if (int8 != null) {
                out.printf(Locale.ROOT, "| this project int8 | %.1f | %.3f |%n", int8.pairsPerSecond(), int8.pairsPerSecond() / st);
                out.printf(Locale.ROOT, "int8 top-10 in fp32's order on %.1f%% of %d queries, the same top-10 set on %.1f%%; "
                                + "|fp32 - int8| score error mean %.4f, max %.4f%n", 100 * agreement.sameOrderFraction(),
                        agreement.queries(), 100 * agreement.sameSetFraction(), agreement.meanAbsError(), agreement.maxAbsError());
            }
        }
    }

    private Peers measurePeers(Settings settings, Optional<Path> tools, Path modelDir, ModelSpec spec, InferenceOptions options,
                               Workload generated, int cores) throws Exception {
        if (!Files.isDirectory(modelDir.resolve("hf"))) {
            throw new IllegalStateException("bench: (f) needs the PyTorch weights in " + modelDir.resolve("hf")
                    + " for sentence-transformers (export with --save-hf, or use --minilm-weights)");
        }
        // Real queries and their BM25 candidates when MED is at hand (see MedWorkload), else the other phases' pairs.
        Optional<Workload> med = MedWorkload.load(findMed(), settings.queries(), settings.candidates());
        Workload workload = med.orElse(generated);
        String source = med.isPresent()
                ? String.format(Locale.ROOT, "MED: %d real queries x BM25 top %d abstracts = %d pairs", workload.queries().size(),
                        settings.candidates(), workload.pairs())
                : "the generated workload (../shared/data/med is absent: the int8 order check then compares word salad)";
        Path pairsFile = Files.createTempFile("reranker-bench-pairs", ".json");
        Path result = Files.createTempFile("reranker-bench-peers", ".json");
        ObjectNode pairsJson = JSON.createObjectNode();
        var queries = pairsJson.putArray("queries");
        for (Workload.Query q : workload.queries()) {
            ObjectNode node = queries.addObject();
            node.put("query", q.text());
            var passages = node.putArray("passages");
            q.passages().forEach(passages::add);
        }
        Files.writeString(pairsFile, JSON.writeValueAsString(pairsJson));
        out.printf(Locale.ROOT, "bench: (f) peers on %d threads, pairs from %s, load average %.2f%n", cores, source, loadAverage());
        python(settings.peersPython().get(), requireTools(tools), List.of("-m", "reranker_tools.bench_peers", "--model-dir",
                modelDir.toAbsolutePath().toString(), "--pairs", pairsFile.toAbsolutePath().toString(), "--threads", Integer.toString(cores),
                "--batch-size", "32", "--max-length", "512", "--out", result.toAbsolutePath().toString()));
        com.fasterxml.jackson.databind.JsonNode python = JSON.readTree(result.toFile());
        // The peers' order: every pair sorted by length across queries, cut into batches of 32, no token budget or padding cap.
        InferenceOptions sorted32 = options.withBatch(32, Integer.MAX_VALUE).withMaxPaddingRatio(Double.POSITIVE_INFINITY);
        Phase fp32 = timedScore(spec, sorted32.withVariant(ModelDirectory.Variant.FP32), workload, "java-fp32");
        Phase int8 = null;
        Int8Agreement agreement = null;
        if (Files.isRegularFile(modelDir.resolve(ModelDirectory.Variant.INT8.fileName()))) {
            int8 = timedScore(spec, sorted32.withVariant(ModelDirectory.Variant.INT8), workload, "java-int8");
            agreement = top10Agreement(spec, options, workload);
        }
        Files.deleteIfExists(pairsFile);
        Files.deleteIfExists(result);
        return new Peers(python, fp32, int8, agreement, source);
    }

    /** Tokenizing and running every pair, timed together as the peers' are (with one untimed warm-up batch set). */
    private Phase timedScore(ModelSpec spec, InferenceOptions options, Workload workload, String name) {
        try (RawRunner runner = RawRunner.open(spec, options)) {
            List<RawRunner.Request> requests = requests(workload);
            runner.run(runner.prepare(requests.subList(0, 1)));
            long start = System.nanoTime();
            RawRunner.Prepared prepared = runner.prepare(requests);
            runner.run(prepared);
            long nanos = System.nanoTime() - start;
            out.printf(Locale.ROOT, "bench: (f) %s: %.1f pairs/s, load average %.2f%n", name, workload.pairs() / (nanos / 1e9), loadAverage());
            return new Phase(name, workload.pairs(), prepared.realTokens(), nanos,
                    (double) prepared.paddedTokens() / prepared.realTokens(), prepared.batchRows(), runner.executionProvider());
        }
    }

    /** int8's scores against fp32's on every query of {@code workload} ({@link Int8Agreement}). */
    private static Int8Agreement top10Agreement(ModelSpec spec, InferenceOptions options, Workload workload) {
        List<RawRunner.Request> requests = requests(workload);
        List<double[]> fp32;
        List<double[]> int8;
        try (RawRunner runner = RawRunner.open(spec, options.withVariant(ModelDirectory.Variant.FP32))) {
            fp32 = runner.logits(requests);
        }
        try (RawRunner runner = RawRunner.open(spec, options.withVariant(ModelDirectory.Variant.INT8))) {
            int8 = runner.logits(requests);
        }
        return agreement(fp32, int8);
    }

    /** Compares two score lists query by query (same queries, same candidate order). */
    static Int8Agreement agreement(List<double[]> fp32, List<double[]> int8) {
        int sameOrder = 0;
        int sameSet = 0;
        double errorSum = 0;
        double errorMax = 0;
        int scores = 0;
        for (int q = 0; q < fp32.size(); q++) {
            int[] a = top(fp32.get(q), 10);
            int[] b = top(int8.get(q), 10);
            if (java.util.Arrays.equals(a, b)) {
                sameOrder++;
            }
            int[] sortedA = a.clone();
            int[] sortedB = b.clone();
            java.util.Arrays.sort(sortedA);
            java.util.Arrays.sort(sortedB);
            if (java.util.Arrays.equals(sortedA, sortedB)) {
                sameSet++;
            }
            for (int i = 0; i < fp32.get(q).length; i++) {
                double error = Math.abs(fp32.get(q)[i] - int8.get(q)[i]);
                errorSum += error;
                errorMax = Math.max(errorMax, error);
                scores++;
            }
        }
        return new Int8Agreement(fp32.size(), sameOrder, sameSet, scores == 0 ? Double.NaN : errorSum / scores, errorMax);
    }

    static int[] top(double[] scores, int k) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        int[] out = new int[Math.min(k, order.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = order[i];
        }
        return out;
    }

    /** The 1-minute load average, noted beside each figure: this machine is shared. */
    static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
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
