package dev.kafkareranker.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's directory is replaced by a new version while queries stream through: each result must
 * come wholly from one version (its scores are that version's), none is lost, and no error is raised.
 * Version 1 is the BERT fixture, version 2 the RoBERTa+LoRA fixture, so their scores differ.
 */
class HotSwapTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures");
    private static final String QUERY = "what is kafka streams";
    private static final List<String> PASSAGES = List.of("Kafka Streams is a client library.", "A stream processor.",
            "Bananas are yellow.", "Exactly-once processing with transactions.");

    @TempDir
    Path dir;

    private static void copy(Path from, Path to, String version) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        String json = Files.readString(to.resolve("reranker.json")).replaceAll("\"version\"\\s*:\\s*\"[^\"]*\"", "\"version\": \"" + version + "\"");
        Files.writeString(to.resolve("reranker.json"), json);
    }

    private static InferenceOptions cpu() {
        return InferenceOptions.defaults().withDevice(Device.parse("cpu"));
    }

    private static List<Score> reference(Path model) {
        try (Scorer scorer = Scorers.open(ModelDirectory.load(model), cpu())) {
            return scorer.score(QUERY, PASSAGES);
        }
    }

    @Test
    void aSwapMidStreamLosesNothingAndEveryResultIsFromOneVersion() throws Exception {
        Path v1 = dir.resolve("v1");
        Path v2 = dir.resolve("v2");
        copy(FIXTURES.resolve("bert-cross-encoder"), v1, "1");
        copy(FIXTURES.resolve("roberta-lora"), v2, "2");
        Map<String, List<Score>> expected = Map.of("1", reference(v1), "2", reference(v2));
        Path live = dir.resolve("live");
        copy(v1, live, "1");

        try (ModelRegistry registry = ModelRegistry.open(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker")) {
            AtomicBoolean running = new AtomicBoolean(true);
            Map<String, Integer> byVersion = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                workers.add(pool.submit(() -> {
                    int done = 0;
                    while (running.get() || done < 5) {
                        Scorer.Scoring s = registry.forModel("ranker").scoreQuery(QUERY, PASSAGES);
                        List<Score> want = expected.get(s.modelVersion());
                        for (int i = 0; i < PASSAGES.size(); i++) {
                            assertEquals(want.get(i).score(), s.scores().get(i).score(), 1e-6,
                                    "a result of version " + s.modelVersion() + " has that version's scores");
                        }
                        assertEquals("ranker", s.modelName());
                        byVersion.merge(s.modelVersion(), 1, Integer::sum);
                        done++;
                    }
                    return done;
                }));
            }
            Thread.sleep(300);
            copy(v2, live, "2");
            assertEquals("2", registry.reload("ranker"));
            Thread.sleep(300);
            running.set(false);
            int total = 0;
            for (Future<Integer> w : workers) {
                total += w.get();
            }
            pool.shutdown();
            System.out.printf("hot swap: %d queries, by version %s%n", total, byVersion);
            assertTrue(byVersion.getOrDefault("1", 0) > 0 && byVersion.getOrDefault("2", 0) > 0, byVersion.toString());
            assertEquals(total, byVersion.values().stream().mapToInt(Integer::intValue).sum(), "every query has a result");
            assertEquals("2", registry.forModel(null).scoreQuery(QUERY, PASSAGES).modelVersion());
        }
    }

    @Test
    void theWatcherReloadsAChangedDirectoryAndKeepsTheOldVersionWhenTheNewOneIsBroken() throws Exception {
        Path live = dir.resolve("live");
        copy(FIXTURES.resolve("bert-cross-encoder"), live, "1");
        try (ModelRegistry registry = ModelRegistry.open(List.of(new ModelRegistry.Served("ranker", live, cpu())), "ranker");
             ModelWatcher watcher = new ModelWatcher(registry, Duration.ofHours(1))) {
            copy(FIXTURES.resolve("roberta-lora"), live, "2");
            watcher.check();
            assertEquals("1", registry.slot("ranker").modelVersion(), "a change is acted on once it has held still");
            watcher.check();
            assertEquals("2", registry.slot("ranker").modelVersion());

            Files.writeString(live.resolve("model.onnx"), "half-copied");
            watcher.check();
            watcher.check();
            assertEquals("2", registry.slot("ranker").modelVersion(), "a broken directory leaves the serving version alone");
            assertEquals(PASSAGES.size(), registry.forModel("ranker").score(QUERY, PASSAGES).size());
        }
    }
}
