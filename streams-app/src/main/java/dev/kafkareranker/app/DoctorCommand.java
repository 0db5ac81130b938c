package dev.kafkareranker.app;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelDirectory.Variant;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * {@code reranker doctor}: the check a user runs on a new node before serving from it. Lists the native
 * libraries the device's provider needs and which are found; scores every golden pair of the fixtures (or of
 * one model directory's golden.json) with every variant file on the device and prints |delta| against the
 * goldens with each variant's tolerance, flagging NaN; runs a short bench (pairs/s, peak memory); and ends
 * with one verdict line, {@code doctor: PASS ...} or {@code doctor: FAIL ...}, and exit code 0 or 1.
 */
final class DoctorCommand {

    static final String USAGE = "reranker doctor [--device cuda[:N]|cpu] [--model-dir DIR] [--fixtures DIR] [--bench-pairs N]";
    static final int DEFAULT_BENCH_PAIRS = 256;

    /** What the doctor looks at the machine through: the real system in production, fakes of a GPU node in tests. */
    record Probes(NativeLibraries.Locator libraries, GoldenCheck.DeviceScorers scorers, IntFunction<DoctorBench.PeakMemory> gpuMemory,
                  DoctorBench.PeakMemory processMemory, LongSupplier nanoTime) {

        static Probes system(Map<String, String> env) {
            return new Probes(NativeLibraries.system(env), (spec, options) -> {
                InferenceEngine engine = Scorers.open(spec, options);
                return new GoldenCheck.DeviceScorers.Opened(engine, engine.executionProvider());
            }, DoctorBench::gpuPeak, DoctorBench.processPeak(), System::nanoTime);
        }
    }

    private final PrintStream out;
    private final Probes probes;
    private final List<Path> fixtureHomes;
    private final List<String> problems = new ArrayList<>();

    /**
     * @param fixtureHomes where to look for tools/fixtures when --fixtures is not given, first existing wins
     */
    DoctorCommand(PrintStream out, Probes probes, List<Path> fixtureHomes) {
        this.out = out;
        this.probes = probes;
        this.fixtureHomes = List.copyOf(fixtureHomes);
    }

    /** The fixtures of a checkout (run from its root or through bin/reranker), or those an image copies beside its jar. */
    static List<Path> defaultFixtureHomes() {
        List<Path> out = new ArrayList<>(List.of(Path.of("tools", "fixtures")));
        try {
            Path jar = Path.of(DoctorCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = Files.isDirectory(jar) ? jar : jar.getParent();
            out.add(dir.resolve("fixtures"));
            if (dir.getParent() != null && dir.getParent().getParent() != null) {
                out.add(dir.getParent().getParent().resolve("tools").resolve("fixtures"));
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // no code source (an unusual class loader): the working directory only
        }
        return out;
    }

    int run(List<String> argList) throws Exception {
        Deque<String> args = new ArrayDeque<>(argList);
        Device device = Device.parse("cuda:0");
        Optional<Path> modelDir = Optional.empty();
        Optional<Path> fixtures = Optional.empty();
        int benchPairs = DEFAULT_BENCH_PAIRS;
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--device" -> device = Device.parse(value(args, arg));
                case "--model-dir" -> modelDir = Optional.of(existingDir(value(args, arg), arg));
                case "--fixtures" -> fixtures = Optional.of(existingDir(value(args, arg), arg));
                case "--bench-pairs" -> benchPairs = nonNegative(value(args, arg), arg);
                default -> throw new IllegalArgumentException("doctor: unknown argument '" + arg + "'\nusage: " + USAGE);
            }
        }
        if (device.kind() == Device.Kind.AUTO) {
            throw new IllegalArgumentException("doctor: --device auto would pass on the CPU of a GPU node whose CUDA is broken; "
                    + "name the device to check: --device cuda[:N] or --device cpu");
        }
        boolean gpu = device.kind() == Device.Kind.CUDA;
        // Each model file's start-up INFO line would interleave with the table; warnings (a TensorRT or fp16 fallback) still show.
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.kafkareranker");
        ch.qos.logback.classic.Level level = logger.getLevel();
        logger.setLevel(ch.qos.logback.classic.Level.WARN);
        try {
            return check(device, gpu, modelDir, fixtures, benchPairs);
        } finally {
            logger.setLevel(level);
        }
    }

    private int check(Device device, boolean gpu, Optional<Path> modelDir, Optional<Path> fixtures, int benchPairs) throws IOException {
        out.println("reranker doctor: device " + device + ", " + Runtime.getRuntime().availableProcessors() + " cores this JVM may use, Java "
                + Runtime.version());
        libraries(gpu);
        InferenceOptions options = InferenceOptions.defaults().withDevice(device);
        int checked = goldens(modelDir, fixtures, options);
        Optional<DoctorBench.Result> bench = benchPairs > 0 && !providerDead() ? bench(modelDir, options, device, benchPairs) : Optional.empty();
        return verdict(device, checked, bench);
    }

    private void libraries(boolean gpu) {
        if (!gpu) {
            out.println("native libraries: the CPU provider needs none beyond ONNX Runtime's own (in its jar)");
            return;
        }
        out.println("native libraries (CUDA provider of onnxruntime_gpu 1.23.2; TensorRT optional):");
        List<NativeLibraries.Found> found = new ArrayList<>(NativeLibraries.check(NativeLibraries.CUDA, probes.libraries()));
        found.addAll(NativeLibraries.check(NativeLibraries.TENSORRT, probes.libraries()));
        for (NativeLibraries.Found f : found) {
            String state = f.path().map(p -> "found    " + p).orElse(f.library().required() ? "MISSING" : "missing");
            out.printf("  %-40s %-60s %s%n", f.library().soname(), state, f.library().role());
            if (f.path().isEmpty() && f.library().required()) {
                problems.add("the CUDA provider cannot start: " + f.library().soname() + " not found (" + f.library().role() + ")");
            }
        }
    }

    private int goldens(Optional<Path> modelDir, Optional<Path> fixtures, InferenceOptions options) throws IOException {
        List<Path> dirs = new ArrayList<>();
        if (modelDir.isPresent()) {
            dirs.add(modelDir.get());
        } else {
            Optional<Path> home = fixtures.or(() -> fixtureHomes.stream().filter(Files::isDirectory).findFirst());
            if (home.isEmpty()) {
                problems.add("no fixtures found (looked in " + fixtureHomes + "): give --fixtures DIR, or --model-dir DIR with a golden.json");
                return 0;
            }
            try (Stream<Path> list = Files.list(home.get())) {
                list.filter(d -> Files.isRegularFile(d.resolve(GoldenCheck.GOLDEN_JSON))).sorted().forEach(dirs::add);
            }
            if (dirs.isEmpty()) {
                problems.add("no fixture with a golden.json in " + home.get());
                return 0;
            }
        }
        out.println("golden scores (max |delta| over each file's pairs against PyTorch fp32; tolerance per variant):");
        out.printf("  %-26s %-7s %5s  %-11s %-11s %-11s %-28s %s%n", "model", "variant", "pairs", "|d logit|", "|d score|", "tolerance",
                "provider", "result");
        int checked = 0;
        for (Path dir : dirs) {
            List<GoldenCheck.Pair> pairs = GoldenCheck.read(dir);
            if (pairs.isEmpty()) {
                out.println("  " + dir + ": no golden.json (tools/ export --pairs writes one): its scores are not compared");
                continue;
            }
            for (Variant variant : GoldenCheck.variants(dir)) {
                GoldenCheck.Result r = GoldenCheck.check(dir.getFileName().toString(), dir, variant, pairs, options, probes.scorers());
                checked++;
                out.printf("  %-26s %-7s %5d  %-11s %-11s %-11s %-28s %s%n", r.model(), variant.name().toLowerCase(java.util.Locale.ROOT),
                        r.pairs(), sci(r.maxLogitDelta()), sci(r.maxScoreDelta()), sci(r.tolerance()), r.provider(),
                        r.passed() ? "ok" : (r.nonFinite() > 0 ? "NaN " : "FAIL ") + r.problem());
                if (!r.passed()) {
                    problems.add(r.model() + " " + variant.name().toLowerCase(java.util.Locale.ROOT) + ": " + r.problem());
                }
                if (r.error().filter(e -> e.contains("could not start")).isPresent()) {
                    out.println("  (the provider cannot start: the other files would fail the same way, not tried)");
                    return checked;
                }
            }
        }
        return checked;
    }

    private boolean providerDead() {
        return problems.stream().anyMatch(p -> p.contains("could not start") || p.contains("cannot start"));
    }

    private Optional<DoctorBench.Result> bench(Optional<Path> modelDir, InferenceOptions options, Device device, int pairs) {
        Path dir = modelDir.orElseGet(BundledModel::extract);
        ModelSpec spec = ModelDirectory.load(dir);
        DoctorBench.PeakMemory memory = device.kind() == Device.Kind.CUDA ? probes.gpuMemory().apply(device.cudaId()) : probes.processMemory();
        try {
            GoldenCheck.DeviceScorers.Opened opened = probes.scorers().open(spec, options);
            try (var scorer = opened.scorer()) {
                DoctorBench.Result r = DoctorBench.run(scorer, pairs, 42, memory, probes.nanoTime());
                out.printf("bench: %s on %s: %d pairs (%d per query, about %d words each, %d callers) in %.2f s: %.1f pairs/s; %s: %s%n",
                        spec.name(), opened.provider(), r.pairs(), DoctorBench.PASSAGES_PER_QUERY, DoctorBench.PASSAGE_WORDS,
                        DoctorBench.CALLERS, r.seconds(), r.pairsPerSecond(), r.memoryKind(), mib(r.peakBytes()));
                if (r.nonFinite() > 0) {
                    problems.add("bench: " + r.nonFinite() + " of " + r.pairs() + " scores are NaN or infinite");
                }
                return Optional.of(r);
            }
        } catch (Exception e) {
            out.println("bench: " + spec.name() + " failed: " + GoldenCheck.oneLine(e));
            problems.add("bench on " + spec.name() + " failed: " + GoldenCheck.oneLine(e));
            return Optional.empty();
        }
    }

    private int verdict(Device device, int checked, Optional<DoctorBench.Result> bench) {
        if (!problems.isEmpty()) {
            out.println("doctor: FAIL - " + problems.get(0) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more above)" : ""));
            return 1;
        }
        out.println("doctor: PASS - " + checked + " model files within tolerance on " + device + ", no NaN"
                + bench.map(b -> String.format("; %.1f pairs/s, peak %s", b.pairsPerSecond(), mib(b.peakBytes()))).orElse(""));
        return 0;
    }

    private static String sci(double value) {
        return String.format("%.1e", value);
    }

    private static String mib(OptionalLong bytes) {
        return bytes.isPresent() ? (bytes.getAsLong() >> 20) + " MiB" : "not readable";
    }

    private static String value(Deque<String> args, String option) {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("doctor: " + option + " needs a value\nusage: " + USAGE);
        }
        return args.removeFirst();
    }

    private static Path existingDir(String value, String option) {
        Path path = Path.of(value);
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException("doctor: " + option + " " + path + " is not a directory");
        }
        return path;
    }

    private static int nonNegative(String value, String option) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("doctor: " + option + " needs a whole number of at least 0, not '" + value + "'");
    }
}
