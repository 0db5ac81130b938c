package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code reranker run --config FILE} with a broken file: one line that names the problem, and exit code 2. */
class ConfigErrorsTest {

    @TempDir
    Path dir;

    /** The settings each case starts from: nothing listens on 127.0.0.1:1, so only a check before the broker's passes. */
    private static final String BASE = "bootstrap.servers=127.0.0.1:1\nschema.registry.url=http://127.0.0.1:1\nadmin.port=-1\n";

    private MainOutcome run(String properties) throws Exception {
        Path file = dir.resolve("reranker.properties");
        Files.writeString(file, BASE + properties);
        return MainOutcome.run("", "run", "--config", file.toString());
    }

    @Test
    void anUnknownKeyIsNamedWithTheClosestKnownOne() throws Exception {
        run("gather.max.wiat.ms=100\n").assertOneLine("gather.max.wiat.ms", "gather.max.wait.ms");
    }

    @Test
    void aTopicKeyTypoIsNamedWithTheKnownTopicKeys() throws Exception {
        run("topic.result=ranked\n").assertOneLine("topic.result", "topic.results", "topic.candidates", "topic.dead.letters");
    }

    @Test
    void aBadValueNamesTheKeyTheValueAndWhatIsAllowed() throws Exception {
        run("inference.model.variant=fp8\n").assertOneLine("inference.model.variant", "fp8", "fp16");
    }

    @Test
    void runWithoutConfigNamesConfigAndTheRequiredKeysBeforeLoadingAModel() throws Exception {
        MainOutcome outcome = MainOutcome.run("", "run");
        outcome.assertOneLine("--config", "bootstrap.servers", "schema.registry.url", "RERANKER_BOOTSTRAP_SERVERS");
        assertTrue(outcome.stderr().stream().noneMatch(l -> l.contains("loaded") || l.contains("CUDA")), "no model opened: " + outcome.stderr());
    }

    @Test
    void aRequiredKeyMissingFromTheFileNamesTheKeyAndTheFile() throws Exception {
        Path file = dir.resolve("half.properties");
        Files.writeString(file, "bootstrap.servers=127.0.0.1:1\n");
        MainOutcome outcome = MainOutcome.run("", "run", "--config", file.toString());
        outcome.assertOneLine("schema.registry.url", file.toString());
        assertTrue(outcome.stderr().stream().noneMatch(l -> l.contains("loaded")), "no model opened: " + outcome.stderr());
    }

    @Test
    void anInProcessRegistryIsRefusedByRunBecauseNoOtherProcessCanReadIt() throws Exception {
        run("schema.registry.url=mock://mine\n").assertOneLine("mock://mine", "other processes", "bin/reranker broker");
    }

    @Test
    void aMissingModelDirectoryIsNamed() throws Exception {
        run("model.dir=" + dir.resolve("no-such-model") + "\n").assertOneLine("no-such-model", "does not exist");
    }
}
