package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.EngineStats;
import dev.kafkareranker.inference.InferenceEngine;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * (c) the whole pipeline through a real broker (embedded, or {@code --bootstrap}'s), and (e) its feed half with
 * the near-zero-cost model: untimed warm-up passes, then the workload once, timed until its last result is
 * read; for (c), the latency phase (d) follows on the same running pipeline.
 */
final class PipelinePhase {

    /** Most untimed passes before a pipeline phase's timed one. */
    private static final int WARM_UP_PASSES = 3;
    /**
     * A pipeline phase is warm once the JIT's compilers were busy for less than this share of a pass. Not lower:
     * with 3% and up to 6 passes the compilers never got there (11-43% in the sixth pass of the fixture's (c) and
     * (e)), the timed (e) pass still had 0.55-0.91 CPU s of JIT and native threads against 0.43-0.96 s with this,
     * and the bench took longer. The JVM's compilers keep compiling what a 2-core machine gives them little time
     * for; a longer-lived JVM is the way to leave them out.
     */
    private static final double WARM_JIT_SHARE = 0.1;
    /** Partitions of the bench's topics: two stream threads get two tasks each. */
    private static final int PARTITIONS = 4;

    private final PrintStream out;
    private final BenchCommand.Settings settings;
    /** Where each measured phase's CPU went ({@link CpuAccount}), reported as "cpu". */
    private final ObjectNode cpuByPhase;

    PipelinePhase(PrintStream out, BenchCommand.Settings settings, ObjectNode cpuByPhase) {
        this.out = out;
        this.settings = settings;
        this.cpuByPhase = cpuByPhase;
    }

    PipelineResult measure(Path modelDir, Workload workload, boolean withLatency, String name) throws Exception {
        // Fresh names on an external broker: an earlier run's records and committed offsets must not count.
        String run = settings.bootstrap().isPresent() ? "-" + name + "-" + Long.toHexString(System.nanoTime()) : "";
        Topics topics = settings.bootstrap().isPresent()
                ? new Topics("bench" + run + "-candidates", "bench" + run + "-results", "bench" + run + "-dlq") : Topics.defaults();
        try (BenchBroker kafka = BenchBroker.open(settings.bootstrap())) {
            kafka.createTopics(PARTITIONS, topics.candidates(), topics.results(), topics.deadLetters());
            RerankerConfig config = new RerankerConfig(appSettings(kafka, topics, modelDir, run));
            long commitIntervalMs = commitIntervalMs(config);
            try (RerankerApp app = RerankerApp.create(config);
                 ResultCollector collector = new ResultCollector(kafka.bootstrapServers(), topics.results(), "bench-results" + run);
                 CandidateSender sender = new CandidateSender(kafka.bootstrapServers(), topics.candidates())) {
                app.start();
                InferenceEngine engine = (InferenceEngine) app.scorer();  // the default model's current engine
                int warmUp = warmUp(workload, sender, collector, withLatency ? "c" : "e", name);

                EngineStats.Snapshot before = engine.stats();
                CpuAccount cpu = CpuAccount.start();
                long start = System.nanoTime();
                for (Workload.Query q : workload.queries()) {
                    sender.send(workload.candidates(q));
                }
                collector.await(warmUp + workload.queries().size(), Duration.ofMinutes(10));
                long nanos = System.nanoTime() - start;
                cpuByPhase.set(name, cpu.stop(BenchEnvironment.JSON));
                EngineStats.Snapshot stats = engine.stats().minus(before);
                // Pairs the model scored, not pairs sent: what the pipeline did in that time.
                Phase throughput = new Phase(name, (int) stats.rows(), stats.realTokens(), nanos, stats.paddingRatio(),
                        stats.batchRows(), engine.executionProvider());
                out.printf(Locale.ROOT, "bench: (%s) %s done: %.1f pairs/s, load average %.2f%n", withLatency ? "c" : "e", name,
                        throughput.pairsPerSecond(), BenchEnvironment.loadAverage());
                if (!withLatency) {
                    return PipelineResult.throughputOnly(throughput, commitIntervalMs);
                }
                return new LatencyPhase(out, kafka, sender, collector, run).measure(throughput, workload, settings.candidates(),
                        settings.latencyQueries(), warmUp + workload.queries().size(), commitIntervalMs);
            }
        }
    }

    private Map<String, Object> appSettings(BenchBroker kafka, Topics topics, Path modelDir, String run) throws java.io.IOException {
        Map<String, Object> props = new HashMap<>(settings.overrides());
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("schema.registry.url", BenchEnvironment.REGISTRY);
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
        return props;
    }

    /**
     * Untimed passes of the whole workload first, under other query ids: every partition (so every stream
     * thread) sees queries, each thread's first transactions are behind it, and the JIT has compiled the
     * pipeline's paths. One pass was not enough where the model keeps both cores busy: the JIT's compiler
     * threads get little CPU and their backlog ran on into the timed pass (2.6 of 24 CPU seconds of a MiniLM
     * (c) phase). So passes go on until the compilers were busy for less than {@link #WARM_JIT_SHARE} of the
     * last pass's time, at most {@link #WARM_UP_PASSES}.
     *
     * @return how many queries the warm-up sent
     */
    private int warmUp(Workload workload, CandidateSender sender, ResultCollector collector, String label, String name) throws InterruptedException {
        int sent = 0;
        for (int pass = 1; pass <= WARM_UP_PASSES; pass++) {
            long compileMs = BenchEnvironment.compileMs();
            long passStart = System.nanoTime();
            for (Workload.Query q : workload.queries()) {
                sender.send(workload.candidates(new Workload.Query("warm-up-" + pass + "-" + q.id(), q.text(), q.passages())));
            }
            sent += workload.queries().size();
            collector.await(sent, Duration.ofMinutes(10));
            double compiling = (BenchEnvironment.compileMs() - compileMs) / ((System.nanoTime() - passStart) / 1e6);
            out.printf(Locale.ROOT, "bench: (%s) %s warm-up pass %d: JIT compiling %.0f%% of the time%n", label, name, pass, 100 * compiling);
            if (compiling < WARM_JIT_SHARE) {
                break;
            }
        }
        return sent;
    }

    /** commit.interval.ms as the app runs it (exactly-once's 100 ms default when not set), for the report. */
    private static long commitIntervalMs(RerankerConfig config) {
        Object value = config.streamsProperties().getOrDefault("commit.interval.ms", "100");
        try {
            return Long.parseLong(value.toString());
        } catch (NumberFormatException e) {
            return 100;
        }
    }
}
