package dev.kafkareranker.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Confluent's own Python client (confluent-kafka 2.16.1, {@code src/test/python/confluent_interop.py}) run as a
 * child process against a broker and a registry. Its interpreter is {@code -Dit.python}, else the venv that
 * {@code src/test/python/venv} makes (from PyPI on a machine's first run, cached under ~/.cache/kafka-reranker).
 */
final class ConfluentPython {

    private static final Path SCRIPT = Path.of("src", "test", "python", "confluent_interop.py").toAbsolutePath();
    private static final Path VENV_SCRIPT = Path.of("src", "test", "python", "venv").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String python;
    private final String bootstrap;
    private final String registry;

    private ConfluentPython(String python, String bootstrap, String registry) {
        this.python = python;
        this.bootstrap = bootstrap;
        this.registry = registry;
    }

    static ConfluentPython against(String bootstrap, String registry) throws Exception {
        String python = System.getProperty("it.python", "");
        if (python.isBlank()) {
            python = runForLastLine(List.of("bash", VENV_SCRIPT.toString()), 15);
        }
        if (!Files.isExecutable(Path.of(python))) {
            throw new IllegalStateException("it.python='" + python + "': expected the python of a venv with "
                    + "src/test/python/requirements.txt installed (src/test/python/venv makes one)");
        }
        return new ConfluentPython(python, bootstrap, registry);
    }

    /** Runs one command of confluent_interop.py; its last stdout line is the JSON answer. */
    JsonNode run(String command, String... args) throws Exception {
        List<String> line = new ArrayList<>(List.of(python, SCRIPT.toString(), command,
                "--bootstrap", bootstrap, "--registry", registry));
        line.addAll(List.of(args));
        return JSON.readTree(runForLastLine(line, 5));
    }

    private static String runForLastLine(List<String> command, int minutes) throws Exception {
        Path out = Files.createTempFile("confluent-python", ".out");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish within " + minutes + " minutes: " + Files.readString(out));
        }
        List<String> lines = Files.readAllLines(out);
        if (process.exitValue() != 0 || lines.isEmpty()) {
            throw new AssertionError(command + " exited " + process.exitValue() + ":\n" + String.join("\n", lines));
        }
        return lines.get(lines.size() - 1).trim();
    }
}
