package dev.kafkareranker.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs a module of tools/ with the given Python, its output indented into the bench's. */
final class PythonTool {

    private PythonTool() {
    }

    static void run(PrintStream out, Path python, Path tools, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(python.toString());
        command.addAll(args);
        try {
            Process process = new ProcessBuilder(command).directory(tools.toFile()).redirectErrorStream(true).start();
            try (var lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                lines.lines().forEach(line -> out.println("  " + line));
            }
            int code = process.waitFor();
            if (code != 0) {
                throw new IllegalStateException("bench: " + String.join(" ", command) + " exited with " + code);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot run " + python + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench: interrupted while running " + python, e);
        }
    }
}
