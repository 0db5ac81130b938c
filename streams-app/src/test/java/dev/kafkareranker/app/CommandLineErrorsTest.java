package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mistakes a user makes on the command line end in one line that names the file, and exit code 2. */
class CommandLineErrorsTest {

    @TempDir
    Path dir;

    private record Outcome(int code, List<String> stderr) {}

    private static Outcome main(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(name -> name.startsWith("RERANKER_"));
        Process p = builder.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Outcome(p.exitValue(), err.lines().filter(l -> !l.isBlank()).toList());
    }

    private static void assertOneLine(Outcome outcome, String... fragments) {
        assertEquals(2, outcome.code(), outcome.stderr().toString());
        List<String> ours = outcome.stderr().stream().filter(l -> l.startsWith("reranker:")).toList();
        assertEquals(1, ours.size(), outcome.stderr().toString());
        for (String fragment : fragments) {
            assertTrue(ours.get(0).contains(fragment), ours.get(0) + " lacks " + fragment);
        }
        assertTrue(outcome.stderr().stream().noneMatch(l -> l.trim().startsWith("at ")), "no stack trace: " + outcome.stderr());
    }

    @Test
    void scoreWithAMissingInputFileNamesTheFile() throws Exception {
        Path missing = dir.resolve("no-such-pairs.jsonl");
        assertOneLine(main("", "score", "--device", "cpu", missing.toString()), missing.toString(), "does not exist");
    }

    @Test
    void scoreWithADirectoryAsInputSaysItIsNotAFile() throws Exception {
        assertOneLine(main("", "score", "--device", "cpu", dir.toString()), dir.toString(), "not a readable file");
    }

    @Test
    void produceAndConsumeWithoutSettingsNameConfigAndTheOptions() throws Exception {
        assertOneLine(main("{\"query\":\"q\",\"document\":\"d\"}\n", "produce"), "produce needs bootstrap.servers", "--config", "--bootstrap");
        assertOneLine(main("", "consume", "--bootstrap", "127.0.0.1:1"), "consume needs schema.registry.url", "--registry");
    }

    @Test
    void produceRefusesAnInProcessRegistryThatNoOtherProcessCanRead() throws Exception {
        assertOneLine(main("", "produce", "--bootstrap", "127.0.0.1:1", "--registry", "mock://mine"), "mock://mine", "in-process");
    }

    @Test
    void produceWithALineThatIsNotACandidateNamesTheLineBeforeContactingABroker() throws Exception {
        Path input = Files.writeString(dir.resolve("candidates.jsonl"), "{\"query\":\"q\",\"document\":\"d\"}\n{\"query_id\":\"q\"}\n");
        assertOneLine(main("", "produce", "--bootstrap", "127.0.0.1:1", "--registry", "http://127.0.0.1:1", input.toString()), "line 2",
                "\"query\"");
    }

    @Test
    void scoreWithALineThatIsNotJsonNamesTheLine() throws Exception {
        Path input = Files.writeString(dir.resolve("pairs.jsonl"), "{\"query\":\"q\",\"document\":\"d\"}\n{not json\n");
        assertOneLine(main("", "score", "--device", "cpu", input.toString()), "line 2", "not a JSON object");
    }
}
