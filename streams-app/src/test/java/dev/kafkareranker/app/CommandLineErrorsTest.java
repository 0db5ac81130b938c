package dev.kafkareranker.app;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mistakes a user makes on the command line end in one line that names the file, and exit code 2. */
class CommandLineErrorsTest {

    @TempDir
    Path dir;

    @Test
    void scoreWithAMissingInputFileNamesTheFile() throws Exception {
        Path missing = dir.resolve("no-such-pairs.jsonl");
        MainOutcome.run("", "score", "--device", "cpu", missing.toString()).assertOneLine(missing.toString(), "does not exist");
    }

    @Test
    void scoreWithADirectoryAsInputSaysItIsNotAFile() throws Exception {
        MainOutcome.run("", "score", "--device", "cpu", dir.toString()).assertOneLine(dir.toString(), "not a readable file");
    }

    @Test
    void produceAndConsumeWithoutSettingsNameConfigAndTheOptions() throws Exception {
        MainOutcome.run("{\"query\":\"q\",\"document\":\"d\"}\n", "produce").assertOneLine("produce needs bootstrap.servers", "--config", "--bootstrap");
        MainOutcome.run("", "consume", "--bootstrap", "127.0.0.1:1").assertOneLine("consume needs schema.registry.url", "--registry");
    }

    @Test
    void produceRefusesAnInProcessRegistryThatNoOtherProcessCanRead() throws Exception {
        MainOutcome.run("", "produce", "--bootstrap", "127.0.0.1:1", "--registry", "mock://mine").assertOneLine("mock://mine", "in-process");
    }

    @Test
    void produceWithALineThatIsNotACandidateNamesTheLineBeforeContactingABroker() throws Exception {
        Path input = Files.writeString(dir.resolve("candidates.jsonl"), "{\"query\":\"q\",\"document\":\"d\"}\n{\"query_id\":\"q\"}\n");
        MainOutcome.run("", "produce", "--bootstrap", "127.0.0.1:1", "--registry", "http://127.0.0.1:1", input.toString()).assertOneLine("line 2",
                "\"query\"");
    }

    @Test
    void scoreWithALineThatIsNotJsonNamesTheLine() throws Exception {
        Path input = Files.writeString(dir.resolve("pairs.jsonl"), "{\"query\":\"q\",\"document\":\"d\"}\n{not json\n");
        MainOutcome.run("", "score", "--device", "cpu", input.toString()).assertOneLine("line 2", "not a JSON object");
    }
}
