package dev.kafkareranker.app;

import dev.kafkareranker.eval.EvalCommand;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The command line: {@code run}, {@code demo}, {@code score}, {@code eval}, {@code bench}, and the development
 * stack's {@code broker}, {@code produce} and {@code consume}.
 *
 * <pre>
 * reranker run --config FILE             run against a cluster; RERANKER_* environment variables override the file
 * reranker broker                        Kafka, a development Schema Registry and the topics in one process
 * reranker produce / consume             JSON lines in as candidates; results (or dead letters) out as JSON lines
 * reranker demo [KEY=VALUE ...]          embedded broker, bundled model, sample data; prints results
 * reranker score [--config FILE] [--model-dir DIR] [--device D] [FILE]
 *                                        score JSON-lines pairs from FILE or stdin, without Kafka
 * reranker eval [--collection DIR] [--format F] [--k N] [--model-dir DIR] [--report FILE] [--queries N]
 *                                        BM25 vs BM25 + reranker on a test collection, through an embedded broker
 * </pre>
 */
public final class Main {

    private static final String USAGE = String.join("\n",
            "usage: reranker run --config FILE",
            "       reranker demo [KEY=VALUE ...]",
            "       reranker score [--config FILE] [--model-dir DIR] [--device auto|cpu|cuda[:N]] [FILE]",
            "       reranker bench [--queries N] [--candidates N] [--threads N] [--seed S] [--report FILE] [--bootstrap HOST:PORT] [--latency-queries N]",
            "                      [--peers-python PYTHON] [--minilm-weights DIR] [KEY=VALUE ...]",
            "       " + BrokerCommand.USAGE + "    (Kafka, a development Schema Registry, the topics; until stopped)",
            "       " + ProduceCommand.USAGE,
            "       " + ConsumeCommand.USAGE,
            "       " + EvalCommand.USAGE,
            "       " + DoctorCommand.USAGE + "    (checks a node: native libraries, golden scores, a short bench)");

    private Main() {
    }

    public static void main(String[] args) {
        // Before any DJL class loads: its tokenizers report usage on EC2 unless opted out.
        dev.kafkareranker.inference.UsageTracking.optOut();
        int code;
        try {
            code = run(List.of(args));
        } catch (ConfigException | IllegalArgumentException | Preflight.Failed | dev.kafkareranker.model.ModelLoadException e) {
            // A setting or a model directory the user can fix: one line that says what, no stack trace.
            System.err.println("reranker: " + e.getMessage().replace('\n', ' '));
            code = 2;
        } catch (NoSuchFileException e) {
            // Commands check the files they are given before starting anything; this catches the rest.
            System.err.println("reranker: no such file: " + e.getFile());
            code = 2;
        } catch (AccessDeniedException e) {
            System.err.println("reranker: cannot read " + e.getFile() + ": permission denied");
            code = 2;
        } catch (Exception e) {
            System.err.println("reranker: " + e);
            e.printStackTrace(System.err);
            code = 1;
        }
        System.exit(code);
    }

    static int run(List<String> argList) throws Exception {
        Deque<String> args = new ArrayDeque<>(argList);
        if (args.isEmpty()) {
            System.err.println(USAGE);
            return 2;
        }
        String command = args.removeFirst();
        return switch (command) {
            case "run" -> runPipeline(args);
            case "demo" -> new DemoCommand(System.out).run(keyValues(args));
            case "score" -> score(args);
            case "bench" -> bench(args);
            case "broker" -> new BrokerCommand(System.out, System.getenv()).run(List.copyOf(args));
            case "produce" -> new ProduceCommand(System.out, System.getenv()).run(List.copyOf(args), System.in);
            case "consume" -> new ConsumeCommand(System.out, System.getenv()).run(List.copyOf(args));
            case "config-docs" -> {
                System.out.print(ConfigDocs.markdown());
                yield 0;
            }
            case "eval" -> new EvalCommand(System.out, System.err, System.getenv(), Path.of("")).run(List.copyOf(args));
            case "doctor" -> new DoctorCommand(System.out, DoctorCommand.Probes.system(System.getenv()), DoctorCommand.defaultFixtureHomes())
                    .run(List.copyOf(args));
            case "-h", "--help", "help" -> {
                System.out.println(USAGE);
                yield 0;
            }
            default -> throw new IllegalArgumentException("unknown command '" + command + "'\n" + USAGE);
        };
    }

    private static int runPipeline(Deque<String> args) throws InterruptedException {
        // Before ONNX Runtime or RocksDB loads, so that only earlier processes' copies can be removed; in run only,
        // as another command started beside a running app (exec in its container) must leave the app's copies.
        LeftoverNativeLibraries.removeIfOwned(System.getenv());
        Optional<Path> configFile = Optional.empty();
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            if (arg.equals("--config")) {
                configFile = Optional.of(Path.of(required(args, "--config")));
            } else {
                throw new IllegalArgumentException("run: unknown argument '" + arg + "'\n" + USAGE);
            }
        }
        RerankerConfig config = RerankerConfig.load(configFile, System.getenv());
        // Before the model loads: a missing setting, a broker that does not answer or a missing topic costs seconds, not a load.
        long checks = System.nanoTime();
        Preflight.checkSettings(config, configFile);
        Preflight.checkCluster(config);
        org.slf4j.LoggerFactory.getLogger(Main.class).info("Start-up: settings, broker and topics checked in {} ms ({})",
                (System.nanoTime() - checks) / 1_000_000, Startup.jvmUp());
        RerankerApp app = RerankerApp.create(config);
        CountDownLatch stopped = new CountDownLatch(1);
        app.addStateListener((newState, oldState) -> {
            if (newState == KafkaStreams.State.NOT_RUNNING || newState == KafkaStreams.State.ERROR) {
                stopped.countDown();
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "reranker-shutdown"));
        app.start();
        stopped.await();
        // An error no retry cures was logged in one line by FatalErrors when it stopped the app.
        return app.state() == KafkaStreams.State.ERROR || app.fatalError().isPresent() ? 1 : 0;
    }

    private static int score(Deque<String> args) throws Exception {
        Optional<Path> configFile = Optional.empty();
        Map<String, String> overrides = new HashMap<>();
        Optional<Path> input = Optional.empty();
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--config" -> configFile = Optional.of(Path.of(required(args, arg)));
                case "--model-dir" -> overrides.put(RerankerConfig.MODEL_DIR, required(args, arg));
                case "--device" -> overrides.put(RerankerConfig.INFERENCE_DEVICE, required(args, arg));
                default -> {
                    if (arg.startsWith("--")) {
                        throw new IllegalArgumentException("score: unknown option '" + arg + "'\n" + USAGE);
                    }
                    input = Optional.of(readableFile("score", arg));
                }
            }
        }
        Map<String, String> env = new HashMap<>(System.getenv());
        overrides.forEach((k, v) -> env.put(RerankerConfig.ENV_PREFIX + k.toUpperCase().replace('.', '_'), v));
        RerankerConfig config = RerankerConfig.load(configFile, env);
        try (BufferedReader reader = reader(input, System.in)) {
            return new ScoreCommand(System.out).run(config, reader);
        }
    }

    private static int bench(Deque<String> args) throws Exception {
        int queries = 24;
        int candidates = 50;
        int threads = 2;
        long seed = 42;
        Optional<Path> report = Optional.empty();
        Optional<String> bootstrap = Optional.empty();
        Optional<Path> peersPython = Optional.empty();
        Optional<Path> minilmWeights = Optional.empty();
        int latencyQueries = dev.kafkareranker.bench.BenchCommand.Settings.DEFAULT_LATENCY_QUERIES;
        Map<String, String> overrides = new HashMap<>();
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--queries" -> queries = positive(arg, required(args, arg));
                case "--candidates" -> candidates = positive(arg, required(args, arg));
                case "--threads" -> threads = positive(arg, required(args, arg));
                case "--seed" -> seed = Long.parseLong(required(args, arg));
                case "--report" -> report = Optional.of(Path.of(required(args, arg)));
                case "--bootstrap" -> bootstrap = Optional.of(required(args, arg));
                case "--peers-python" -> peersPython = Optional.of(Path.of(required(args, arg)));
                case "--minilm-weights" -> minilmWeights = Optional.of(Path.of(required(args, arg)));
                case "--latency-queries" -> latencyQueries = positive(arg, required(args, arg));
                default -> overrides.putAll(keyValues(new ArrayDeque<>(List.of(arg))));
            }
        }
        return new dev.kafkareranker.bench.BenchCommand(System.out)
                .run(new dev.kafkareranker.bench.BenchCommand.Settings(queries, candidates, threads, seed, report, overrides, bootstrap,
                        peersPython, minilmWeights, latencyQueries));
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(option + " needs a positive whole number, not '" + value + "'");
    }

    private static Map<String, String> keyValues(Deque<String> args) {
        Map<String, String> out = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected a KEY=VALUE setting, not '" + arg + "'");
            }
            out.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        return out;
    }

    /** A file argument, checked before any model loads, so a typo costs one line and no wait. */
    static Path readableFile(String command, String arg) {
        Path path = Path.of(arg);
        if (!Files.exists(path)) {
            throw new IllegalArgumentException(command + ": input file " + path + " does not exist");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new IllegalArgumentException(command + ": input file " + path + " is not a readable file");
        }
        return path;
    }

    /** The input file, else {@code stdin}, as UTF-8 lines. */
    static BufferedReader reader(Optional<Path> input, java.io.InputStream stdin) throws java.io.IOException {
        return input.isPresent() ? Files.newBufferedReader(input.get(), StandardCharsets.UTF_8)
                : new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
    }

    private static String required(Deque<String> args, String option) {
        if (args.isEmpty()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.removeFirst();
    }
}
