package dev.kafkareranker.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code reranker} command in a child JVM ({@code Main} on this test's class path), as a user runs it from a
 * shell: its own stdout and stderr files, a clean environment (no {@code RERANKER_*} of the machine), and a cache
 * directory of the test's ({@code XDG_CACHE_HOME}), so that nothing it keeps outlives the test.
 */
final class MainProcess implements AutoCloseable {

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final long startNanos = System.nanoTime();

    private MainProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * @param dir   where its output files go (NAME.out, NAME.err) and its cache lives
     * @param env   variables to add, such as RERANKER_ADMIN_PORT
     * @param stdin what it reads on stdin (closed after), or null for nothing
     */
    static MainProcess start(Path dir, String name, List<String> args, Map<String, String> env, String stdin) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // The app's own logging (streams-app's logback.xml), as bin/reranker has it, not this module's test logging.
                "-Dlogback.configurationFile=logback.xml",
                "-cp", System.getProperty("java.class.path"), "dev.kafkareranker.app.Main"));
        command.addAll(args);
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().keySet().removeIf(key -> key.startsWith("RERANKER_"));
        builder.environment().put("XDG_CACHE_HOME", Files.createDirectories(dir.resolve("cache")).toString());
        builder.environment().putAll(env);
        Process process = builder.start();
        if (stdin != null) {
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        process.getOutputStream().close();
        return new MainProcess(process, out, err);
    }

    /** A port nothing listens on now (bound and released): for a fixed-port option, or an address that refuses. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits until stdout holds a line containing {@code text}; fails (with both outputs) if the process ends or the deadline passes. */
    String awaitStdoutLine(String text, Duration deadline) throws IOException, InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (System.nanoTime() < end) {
            for (String line : stdoutLines()) {
                if (line.contains(text)) {
                    return line;
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("exited " + process.exitValue() + " before printing '" + text + "': " + describe());
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + text + "' within " + deadline.toSeconds() + " s: " + describe());
    }

    /** Waits for the exit (failing after {@code deadline}, which only bounds a hang) and returns its code. */
    int awaitExit(Duration deadline) throws InterruptedException, IOException {
        if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + deadline.toSeconds() + " s: " + describe());
        }
        return process.exitValue();
    }

    /** Seconds from start to now (after {@link #awaitExit}: to about its exit). */
    double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    long startNanos() {
        return startNanos;
    }

    boolean alive() {
        return process.isAlive();
    }

    List<String> stdoutLines() throws IOException {
        return Files.readAllLines(stdout, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    List<String> stderrLines() throws IOException {
        return Files.readAllLines(stderr, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    String describe() throws IOException {
        return "\n--- stdout\n" + String.join("\n", stdoutLines()) + "\n--- stderr\n" + String.join("\n", stderrLines());
    }

    /** SIGTERM (its shutdown hook closes what it opened), then SIGKILL if that takes more than 40 s. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(40, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
