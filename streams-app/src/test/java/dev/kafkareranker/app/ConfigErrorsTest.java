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

/** {@code reranker run --config FILE} with a broken file: one line that names the problem, and exit code 2. */
class ConfigErrorsTest {

    @TempDir
    Path dir;

    private record Outcome(int code, List<String> stderr) {}

    /** The settings each case starts from: nothing listens on 127.0.0.1:1, so only a check before the broker's passes. */
    private static final String BASE = "bootstrap.servers=127.0.0.1:1\nschema.registry.url=http://127.0.0.1:1\nadmin.port=-1\n";

    private Outcome run(String properties) throws Exception {
        Path file = dir.resolve("reranker.properties");
        Files.writeString(file, BASE + properties);
        return main("run", "--config", file.toString());
    }

    private static Outcome main(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        // As a user's shell without the app's variables: the cases are about what the file says.
        builder.environment().keySet().removeIf(name -> name.startsWith("RERANKER_"));
        Process p = builder.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<String> lines = err.lines().filter(l -> l.startsWith("reranker:") || !l.isBlank()).toList();
        return new Outcome(p.exitValue(), lines);
    }

    private static void assertOneLine(Outcome outcome, String... fragments) {
        assertEquals(2, outcome.code(), outcome.stderr().toString());
        List<String> ours = outcome.stderr().stream().filter(l -> l.startsWith("reranker:")).toList();
        assertEquals(1, ours.size(), outcome.stderr().toString());
        for (String fragment : fragments) {
            assertTrue(ours.get(0).contains(fragment), ours.get(0) + " lacks " + fragment);
        }
        assertTrue(outcome.stderr().stream().noneMatch(l -> l.startsWith("\tat ")), "no stack trace: " + outcome.stderr());
    }

    @Test
    void anUnknownKeyIsNamedWithTheClosestKnownOne() throws Exception {
        assertOneLine(run("gather.max.wiat.ms=100\n"), "gather.max.wiat.ms", "gather.max.wait.ms");
    }

    @Test
    void aTopicKeyTypoIsNamedWithTheKnownTopicKeys() throws Exception {
        assertOneLine(run("topic.result=ranked\n"), "topic.result", "topic.results", "topic.candidates", "topic.dead.letters");
    }

    @Test
    void aBadValueNamesTheKeyTheValueAndWhatIsAllowed() throws Exception {
        assertOneLine(run("inference.model.variant=fp8\n"), "inference.model.variant", "fp8", "fp16");
    }

    @Test
    void runWithoutConfigNamesConfigAndTheRequiredKeysBeforeLoadingAModel() throws Exception {
        Outcome outcome = main("run");
        assertOneLine(outcome, "--config", "bootstrap.servers", "schema.registry.url", "RERANKER_BOOTSTRAP_SERVERS");
        assertTrue(outcome.stderr().stream().noneMatch(l -> l.contains("loaded") || l.contains("CUDA")), "no model opened: " + outcome.stderr());
    }

    @Test
    void aRequiredKeyMissingFromTheFileNamesTheKeyAndTheFile() throws Exception {
        Path file = dir.resolve("half.properties");
        Files.writeString(file, "bootstrap.servers=127.0.0.1:1\n");
        Outcome outcome = main("run", "--config", file.toString());
        assertOneLine(outcome, "schema.registry.url", file.toString());
        assertTrue(outcome.stderr().stream().noneMatch(l -> l.contains("loaded")), "no model opened: " + outcome.stderr());
    }

    @Test
    void anInProcessRegistryIsRefusedByRunBecauseNoOtherProcessCanReadIt() throws Exception {
        assertOneLine(run("schema.registry.url=mock://mine\n"), "mock://mine", "other processes", "bin/reranker broker");
    }

    @Test
    void aMissingModelDirectoryIsNamed() throws Exception {
        assertOneLine(run("model.dir=" + dir.resolve("no-such-model") + "\n"), "no-such-model", "does not exist");
    }
}
