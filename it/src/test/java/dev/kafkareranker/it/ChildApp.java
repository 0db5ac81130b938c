package dev.kafkareranker.it;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** The reranker as a separate JVM ({@code Main run --config FILE}), so that a test can SIGKILL it. */
final class ChildApp implements AutoCloseable {

    /** What the app's state listener (Startup) logs when Kafka Streams goes RUNNING: "Kafka Streams REBALANCING -> RUNNING". */
    static final String RUNNING_LINE = "-> RUNNING";

    private final Path config;
    private final Path log;
    private final List<String> jvmOptions;
    private final Path tmp;
    private Process process;
    private int starts;
    /** Where the current run's lines begin in {@link #log}. */
    private long logOffset;

    ChildApp(Path dir, Map<String, String> settings, List<String> jvmOptions) throws IOException {
        this.config = dir.resolve("reranker.properties");
        this.log = dir.resolve("child.log");
        // Its own tmpdir, as the image's container has: the native libraries' copies a SIGKILL leaves stay there
        // (removed at the next start, below), not in this machine's /tmp, and a test can count them.
        this.tmp = Files.createDirectories(dir.resolve("tmp"));
        List<String> options = new ArrayList<>(jvmOptions);
        options.add("-Djava.io.tmpdir=" + tmp);
        this.jvmOptions = List.copyOf(options);
        Properties props = new Properties();
        props.putAll(settings);
        try (Writer out = Files.newBufferedWriter(config)) {
            props.store(out, "written by " + ChildApp.class.getSimpleName());
        }
    }

    void start() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.kafkareranker.app.Main");
        command.add("run");
        command.add("--config");
        command.add(config.toString());
        starts++;
        logOffset = Files.exists(log) ? Files.size(log) : 0;
        ProcessBuilder builder = new ProcessBuilder(command);
        // As the images say: this child is the only process using its tmpdir (LeftoverNativeLibraries).
        builder.environment().put("KAFKA_RERANKER_OWNS_TMPDIR", "true");
        process = builder
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /**
     * Starts the child and returns once its Kafka Streams is RUNNING (the line its state listener logs), or fails
     * saying so: at once, with the end of its log, if the process exits first; else after {@link Running#PATIENCE}.
     */
    void startAndAwaitRunning() throws IOException, InterruptedException {
        start();
        awaitRunning();
    }

    /** Waits until the current run has logged Kafka Streams' change to RUNNING; see {@link #startAndAwaitRunning()}. */
    void awaitRunning() throws InterruptedException {
        Await.until("the child app's Kafka Streams to go RUNNING (its log: " + log + ")", Running.PATIENCE, () -> {
            try {
                if (firstLogged(RUNNING_LINE) >= 0) {
                    return true;
                }
                if (!process.isAlive()) {
                    throw new AssertionError("the child app exited (" + process.exitValue() + ") before RUNNING; its log ends:\n" + tail());
                }
                return false;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, () -> {
            try {
                return "its log ends:\n" + tail();
            } catch (IOException e) {
                return "its log cannot be read: " + e;
            }
        });
    }

    /** The current run's last 40 lines. */
    private String tail() throws IOException {
        List<String> lines = currentRun().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private String currentRun() throws IOException {
        byte[] all = Files.readAllBytes(log);
        return new String(all, (int) Math.min(logOffset, all.length), (int) Math.max(0, all.length - logOffset),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    /** SIGKILL: no shutdown hook, no flush, no commit: the crash exactly-once must survive. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** The copies of ONNX Runtime's and RocksDB's native libraries now in this child's tmpdir (LeftoverNativeLibraries' names). */
    List<String> nativeLibraryCopies() throws IOException {
        List<String> names = new ArrayList<>();
        try (var copies = Files.newDirectoryStream(tmp, "{onnxruntime-java*,librocksdbjni*.so}")) {
            copies.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    int starts() {
        return starts;
    }

    Path log() {
        return log;
    }

    /**
     * When the current run first logged a line containing {@code text}, on this machine's clock (epoch ms,
     * from the log's HH:mm:ss.SSS and today's date; the run is seconds long), or -1 if it has not.
     */
    long firstLogged(String text) throws IOException {
        for (String line : currentRun().split("\n")) {
            if (line.contains(text) && line.length() > 12 && line.charAt(2) == ':' && line.charAt(8) == '.') {
                java.time.ZonedDateTime now = java.time.ZonedDateTime.now();
                java.time.ZonedDateTime at = now.with(java.time.LocalTime.parse(line.substring(0, 12)));
                // Just past midnight, a line logged before it would read as late today: it is yesterday's.
                if (at.isAfter(now.plusHours(12))) {
                    at = at.minusDays(1);
                }
                return at.toInstant().toEpochMilli();
            }
        }
        return -1;
    }

    /** SIGTERM: the shutdown hook closes Kafka Streams cleanly. */
    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(40, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
