package dev.kafkareranker.app;

import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The doctor's short bench: seeded queries with passages of about {@value #PASSAGE_WORDS} words, scored by
 * {@value #CALLERS} callers at once (as stream threads would, so that the engine batches their rows), after one
 * warm-up query. Reports pairs per second and the peak memory a {@link PeakMemory} saw while it ran.
 */
final class DoctorBench {

    static final int PASSAGE_WORDS = 120;
    static final int PASSAGES_PER_QUERY = 16;
    static final int CALLERS = 4;

    /** Words for the seeded text: ordinary English, so that subword tokenizers see words of usual length. */
    private static final String[] WORDS = ("the stream of records is read by the application which gathers every candidate of a query "
            + "scores each pair with a model on the device and publishes the ranked list to the results topic while the broker keeps "
            + "offsets transactions and state so that a crash loses nothing and duplicates nothing for a reader of committed data "
            + "patients with chronic kidney disease were treated for months and the measured outcomes improved in most groups").split(" ");

    /** Peak memory while the bench runs: the process's resident set on a CPU, the GPU's used memory on a GPU. */
    interface PeakMemory {
        /** Starts sampling (if it samples). */
        void start();

        /** The peak since start, in bytes; empty when it could not be read. */
        OptionalLong stop();

        /** What the figure is, for the report line. */
        String describe();
    }

    record Result(int pairs, double seconds, OptionalLong peakBytes, String memoryKind, int nonFinite) {
        double pairsPerSecond() {
            return pairs / seconds;
        }
    }

    private DoctorBench() {
    }

    static Result run(Scorer scorer, int pairs, long seed, PeakMemory memory, LongSupplier nanoTime) throws Exception {
        Random random = new Random(seed);
        List<List<String>> queries = new ArrayList<>();
        List<String> queryTexts = new ArrayList<>();
        for (int left = pairs; left > 0; left -= PASSAGES_PER_QUERY) {
            List<String> passages = new ArrayList<>();
            for (int i = 0; i < Math.min(PASSAGES_PER_QUERY, left); i++) {
                passages.add(words(random, PASSAGE_WORDS));
            }
            queries.add(passages);
            queryTexts.add(words(random, 8));
        }
        scorer.score(queryTexts.get(0), queries.get(0).subList(0, 1));
        ExecutorService callers = Executors.newFixedThreadPool(CALLERS, r -> {
            Thread t = new Thread(r, "doctor-bench");
            t.setDaemon(true);
            return t;
        });
        memory.start();
        long start = nanoTime.getAsLong();
        int nonFinite = 0;
        try {
            List<Future<List<Score>>> futures = new ArrayList<>();
            for (int q = 0; q < queries.size(); q++) {
                int index = q;
                futures.add(callers.submit(() -> scorer.score(queryTexts.get(index), queries.get(index))));
            }
            for (Future<List<Score>> future : futures) {
                for (Score s : future.get()) {
                    nonFinite += Double.isFinite(s.score()) ? 0 : 1;
                }
            }
        } finally {
            callers.shutdownNow();
        }
        double seconds = Math.max(1e-9, (nanoTime.getAsLong() - start) / 1e9);
        return new Result(pairs, seconds, memory.stop(), memory.describe(), nonFinite);
    }

    private static String words(Random random, int count) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < count; i++) {
            out.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        return out.toString();
    }

    /** The JVM's peak resident set (VmHWM in /proc/self/status): the model's native memory included, the whole run's peak. */
    static PeakMemory processPeak() {
        return new PeakMemory() {
            @Override
            public void start() {
            }

            @Override
            public OptionalLong stop() {
                try {
                    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                        if (line.startsWith("VmHWM:")) {
                            return OptionalLong.of(Long.parseLong(line.replaceAll("\\D", "")) * 1024);
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // not Linux, or unreadable: no figure
                }
                return OptionalLong.empty();
            }

            @Override
            public String describe() {
                return "peak resident memory of this process (VmHWM)";
            }
        };
    }

    /**
     * The GPU's used memory, sampled every {@value #SAMPLE_MS} ms with nvidia-smi while the bench runs: the whole
     * device's figure (ONNX Runtime's Java API reports none of its own), so another process on the GPU counts too.
     */
    static PeakMemory gpuPeak(int deviceId) {
        return new PeakMemory() {
            private final java.util.concurrent.atomic.AtomicLong peak = new java.util.concurrent.atomic.AtomicLong(-1);
            private java.util.concurrent.ScheduledExecutorService sampler;

            @Override
            public void start() {
                sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "doctor-gpu-memory");
                    t.setDaemon(true);
                    return t;
                });
                sampler.scheduleWithFixedDelay(() -> usedBytes(deviceId).ifPresent(b -> peak.accumulateAndGet(b, Math::max)), 0,
                        SAMPLE_MS, TimeUnit.MILLISECONDS);
            }

            @Override
            public OptionalLong stop() {
                sampler.shutdownNow();
                usedBytes(deviceId).ifPresent(b -> peak.accumulateAndGet(b, Math::max));
                return peak.get() < 0 ? OptionalLong.empty() : OptionalLong.of(peak.get());
            }

            @Override
            public String describe() {
                return "peak used memory of GPU " + deviceId + " (nvidia-smi, whole device)";
            }
        };
    }

    static final long SAMPLE_MS = 100;

    /** {@code nvidia-smi --query-gpu=memory.used}: MiB in use on the device; empty without nvidia-smi. */
    static OptionalLong usedBytes(int deviceId) {
        try {
            Process process = new ProcessBuilder("nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i",
                    Integer.toString(deviceId)).redirectErrorStream(true).start();
            String line;
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                line = reader.readLine();
            }
            if (!process.waitFor(5, TimeUnit.SECONDS) || process.exitValue() != 0 || line == null) {
                process.destroyForcibly();
                return OptionalLong.empty();
            }
            return OptionalLong.of(Long.parseLong(line.strip()) << 20);
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalLong.empty();
        }
    }
}
