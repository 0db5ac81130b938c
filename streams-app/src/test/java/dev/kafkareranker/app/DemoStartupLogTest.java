package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A healthy demo says nothing that reads like a failure: its log (stderr, the app's own logging configuration)
 * holds no WARN or ERROR line, none about its own temporary state (Kafka Streams' OS temp directory warning, the
 * new process id of a fresh state directory), nor the broker's, nor, on a machine without CUDA, the provider's
 * fallback (one INFO line is enough there). The demo runs as a user runs it: a child JVM of {@code Main demo}.
 */
class DemoStartupLogTest {

    @TempDir
    Path cache;

    @Test
    void aHealthyDemoLogsNoWarning() throws Exception {
        // The user's cache and the OS temp directory apart, as ~/.cache and /tmp are (this test's folder is under /tmp).
        Path xdg = Files.createDirectories(cache.resolve("xdg"));
        Path tmp = Files.createDirectories(cache.resolve("tmp"));
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(name -> name.startsWith("RERANKER_"));
        builder.environment().put("XDG_CACHE_HOME", xdg.toString());
        Process demo = builder.start();
        String err = new String(demo.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(demo.waitFor(5, TimeUnit.MINUTES), "the demo ends");
        assertEquals(0, demo.exitValue(), err);
        List<String> warnings = err.lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
        assertEquals(List.of(), warnings, "WARN or ERROR lines in a healthy demo's log");
        try (var left = Files.list(xdg.resolve("kafka-reranker").resolve("scratch"))) {
            assertEquals(List.of(), left.toList(), "the demo removes its state when it ends");
        }
    }
}
