package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory.Variant;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reranker doctor} end to end on the CPU, over the real fixtures and every variant file, and on a
 * tampered golden; its GPU branches through named fakes of a GPU node (this workplace has none): a library
 * locator that finds CUDA's files, scorers that report a CUDA provider, and the GPU's memory figure.
 */
class DoctorCommandTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures");

    private record Run(int exit, List<String> lines) {
        String verdict() {
            return lines.get(lines.size() - 1);
        }
    }

    private static Run doctor(DoctorCommand.Probes probes, String... args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            exit = new DoctorCommand(out, probes, List.of()).run(List.of(args));
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        return new Run(exit, text.lines().toList());
    }

    private static long variantFiles() throws Exception {
        try (Stream<Path> dirs = Files.list(FIXTURES)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("golden.json")))
                    .mapToLong(d -> Stream.of(Variant.values()).filter(v -> Files.isRegularFile(d.resolve(v.fileName()))).count()).sum();
        }
    }

    @Test
    void onTheCpuItPassesOnEveryFixtureAndVariant() throws Exception {
        Run run = doctor(DoctorCommand.Probes.system(System.getenv()), "--device", "cpu", "--fixtures", FIXTURES.toString(),
                "--bench-pairs", "16");
        assertEquals(0, run.exit(), run.verdict());
        long files = variantFiles();
        assertTrue(files >= 20, "fixtures found: " + files);
        assertEquals(files, run.lines().stream().filter(l -> l.contains("CPUExecutionProvider") && l.endsWith(" ok")).count(),
                "one ok row per fixture and variant");
        assertTrue(run.lines().stream().anyMatch(l -> l.startsWith("bench: bge-small-en-v1.5-q on CPUExecutionProvider: 16 pairs")),
                String.join("\n", run.lines()));
        assertTrue(run.verdict().startsWith("doctor: PASS - " + files + " model files within tolerance on cpu, no NaN; "), run.verdict());
        assertTrue(run.verdict().matches(".*pairs/s, peak \\d+ MiB"), run.verdict());
    }

    @Test
    void aTamperedGoldenFailsWithItsVerdictLine(@TempDir Path temp) throws Exception {
        Path dir = temp.resolve("bert-cross-encoder");
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(FIXTURES.resolve("bert-cross-encoder"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode golden = (ObjectNode) json.readTree(dir.resolve("golden.json").toFile());
        ObjectNode first = (ObjectNode) golden.get("pairs").get(0);
        first.put("score", first.get("score").asDouble() + 0.3);
        json.writeValue(dir.resolve("golden.json").toFile(), golden);

        Run run = doctor(DoctorCommand.Probes.system(System.getenv()), "--device", "cpu", "--model-dir", dir.toString(), "--bench-pairs", "0");
        assertEquals(1, run.exit());
        assertTrue(run.verdict().startsWith("doctor: FAIL - bert-cross-encoder fp32: max |delta| 3.0e-01 > tolerance 1.0e-04"), run.verdict());
        assertTrue(run.verdict().contains("more above"), "fp16 and int8 fail too, within their own tolerances: " + run.verdict());
    }

    /** Stands in for a GPU node: real CPU sessions that report CUDA, and optionally NaN from every fp16 file. */
    private static final class FakeGpuScorers implements GoldenCheck.DeviceScorers {
        boolean fp16Overflows;

        @Override
        public Opened open(dev.kafkareranker.model.ModelSpec spec, dev.kafkareranker.inference.InferenceOptions options) {
            InferenceEngine engine = Scorers.open(spec, options.withDevice(Device.parse("cpu")));
            boolean nan = fp16Overflows && options.variant().equals(Optional.of(Variant.FP16));
            Scorer scorer = new Scorer() {
                @Override
                public List<Score> score(String query, List<String> passages) {
                    List<Score> scores = engine.score(query, passages);
                    return nan ? scores.stream().map(s -> new Score(Double.NaN, Double.NaN)).toList() : scores;
                }

                @Override
                public String modelName() {
                    return engine.modelName();
                }

                @Override
                public String modelVersion() {
                    return engine.modelVersion();
                }

                @Override
                public void close() {
                    engine.close();
                }
            };
            return new Opened(scorer, "CUDAExecutionProvider:" + options.device().cudaId());
        }
    }

    /** A GPU's used memory as nvidia-smi would report it: a fixed figure. */
    private static DoctorBench.PeakMemory fakeGpuMemory(long bytes) {
        return new DoctorBench.PeakMemory() {
            @Override
            public void start() {
            }

            @Override
            public OptionalLong stop() {
                return OptionalLong.of(bytes);
            }

            @Override
            public String describe() {
                return "peak used memory of GPU 0 (fake nvidia-smi)";
            }
        };
    }

    /** The largest |logit| of a fixture's golden pairs: what the TF32 tolerance scales with. */
    private static double largestGoldenLogit(Path fixture) throws java.io.IOException {
        double max = 0;
        for (var pair : new ObjectMapper().readTree(fixture.resolve("golden.json").toFile()).get("pairs")) {
            for (var logit : pair.get("logits")) {
                max = Math.max(max, Math.abs(logit.asDouble()));
            }
        }
        return max;
    }

    private static DoctorCommand.Probes gpuNode(Set<String> missing, FakeGpuScorers scorers) {
        NativeLibraries.Locator locator = soname -> missing.contains(soname) ? Optional.empty()
                : Optional.of(Path.of("/usr/local/cuda/lib64", soname));
        AtomicLong clock = new AtomicLong();
        return new DoctorCommand.Probes(locator, scorers, id -> fakeGpuMemory(3L << 29), DoctorBench.processPeak(),
                () -> clock.addAndGet(500_000_000L));
    }

    @Test
    void onAHealthyGpuNodeItListsTheLibrariesScoresWithGpuTolerancesAndPasses() throws Exception {
        Run run = doctor(gpuNode(Set.of("libnvinfer.so.10", "libnvonnxparser.so.10"), new FakeGpuScorers()), "--device", "cuda:0",
                "--model-dir", FIXTURES.resolve("roberta-lora").toString(), "--bench-pairs", "16");
        assertEquals(0, run.exit(), run.verdict());
        assertTrue(run.lines().stream().anyMatch(l -> l.contains("libcublasLt.so.12") && l.contains("found    /usr/local/cuda/lib64/libcublasLt.so.12")));
        assertTrue(run.lines().stream().anyMatch(l -> l.contains("libnvinfer.so.10") && l.contains("missing ")), "TensorRT is optional");
        String fp32 = run.lines().stream().filter(l -> l.contains("roberta-lora") && l.contains(" fp32 ")).findFirst().orElseThrow();
        String tf32 = String.format(java.util.Locale.ROOT, "%.1e", 1e-2 * largestGoldenLogit(FIXTURES.resolve("roberta-lora")));
        assertTrue(fp32.contains("CUDAExecutionProvider:0") && fp32.contains(tf32) && !fp32.contains("1.0e-04") && fp32.endsWith(" ok"),
                "fp32 on a GPU is held to TF32's tolerance, 1e-2 x its largest golden logit (" + tf32 + "): " + fp32);
        assertTrue(run.lines().stream().anyMatch(l -> l.startsWith("bench: roberta-lora on CUDAExecutionProvider:0: 16 pairs")
                && l.contains("peak used memory of GPU 0 (fake nvidia-smi): 1536 MiB")), String.join("\n", run.lines()));
        assertTrue(run.verdict().startsWith("doctor: PASS - 3 model files within tolerance on cuda:0, no NaN; "), run.verdict());
        assertTrue(run.verdict().endsWith("; 32.0 pairs/s, peak 1536 MiB"), "16 pairs in the fake clock's 0.5 s: " + run.verdict());
    }

    @Test
    void aMissingCudaLibraryOrAnFp16OverflowOnTheGpuFailsTheVerdict() throws Exception {
        Run missing = doctor(gpuNode(Set.of("libcublasLt.so.12"), new FakeGpuScorers()), "--device", "cuda", "--model-dir",
                FIXTURES.resolve("bert-cross-encoder").toString(), "--bench-pairs", "0");
        assertTrue(missing.lines().stream().anyMatch(l -> l.contains("libcublasLt.so.12") && l.contains("MISSING")));
        assertEquals(1, missing.exit());
        assertEquals("doctor: FAIL - the CUDA provider cannot start: libcublasLt.so.12 not found (cuBLASLt)", missing.verdict());

        FakeGpuScorers overflowing = new FakeGpuScorers();
        overflowing.fp16Overflows = true;
        Run nan = doctor(gpuNode(Set.of(), overflowing), "--device", "cuda:0", "--model-dir", FIXTURES.resolve("llama-decoder").toString(),
                "--bench-pairs", "0");
        assertEquals(1, nan.exit());
        String fp16 = nan.lines().stream().filter(l -> l.contains(" fp16 ")).findFirst().orElseThrow();
        assertTrue(fp16.contains("NaN 14 of 14 scores are NaN or infinite"), fp16);
        assertEquals("doctor: FAIL - llama-decoder fp16: 14 of 14 scores are NaN or infinite", nan.verdict());
    }

    /** The real runtime asked for CUDA: on this machine, which has no CUDA libraries, the doctor fails and says which. */
    @Test
    void withTheRealRuntimeCudaIsCheckedForRealAndAMachineWithoutItFails() throws Exception {
        Run run = doctor(DoctorCommand.Probes.system(System.getenv()), "--device", "cuda:0", "--model-dir",
                FIXTURES.resolve("bert-cross-encoder").toString(), "--bench-pairs", "0");
        boolean cudaHere = run.lines().stream().noneMatch(l -> l.contains("MISSING"));
        if (cudaHere) {
            assertTrue(run.lines().stream().anyMatch(l -> l.contains("CUDAExecutionProvider:0")), "a GPU machine scores on it");
        } else {
            assertEquals(1, run.exit());
            assertTrue(run.verdict().startsWith("doctor: FAIL - the CUDA provider cannot start: ") && run.verdict().contains(".so"),
                    run.verdict());
            assertTrue(run.lines().stream().anyMatch(l -> l.contains("did not load") && l.contains("could not start")),
                    "and the session on the device is tried for real: " + String.join("\n", run.lines()));
        }
    }

    @Test
    void autoIsRefusedBecauseItWouldPassOnTheCpuOfABrokenGpuNode() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> doctor(DoctorCommand.Probes.system(Map.of()), "--device", "auto"));
        assertTrue(e.getMessage().contains("--device cuda[:N] or --device cpu"), e.getMessage());
    }
}
