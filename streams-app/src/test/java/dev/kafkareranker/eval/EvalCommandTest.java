package dev.kafkareranker.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Argument handling of the eval command; the runs themselves are in MedEvalTest. */
class EvalCommandTest {

    @TempDir
    Path tmp;

    @Test
    void aRelativeCollectionIsResolvedAgainstTheWorkingDirectoryThenTheRepositoryRoot() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("repo"));
        Path module = Files.createDirectories(root.resolve("streams-app"));
        Path med = Files.createDirectories(tmp.resolve("shared/data/med"));

        assertEquals(med, EvalCommand.resolveCollection("../shared/data/med", module, List.of(root)));
        assertEquals(med, EvalCommand.resolveCollection("../shared/data/med", root, List.of()));
        assertEquals(med, EvalCommand.resolveCollection(med.toString(), module, List.of()));
    }

    @Test
    void aMissingCollectionNamesEveryPlaceLookedAtAndTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EvalCommand.resolveCollection("../nowhere", tmp.resolve("a"), List.of(tmp.resolve("b"))));
        assertTrue(e.getMessage().contains(tmp.resolve("nowhere").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("--collection"), e.getMessage());
    }

    @Test
    void theRepositoryRootIsFoundAboveTheModuleDirectory() {
        // Surefire runs in streams-app/; the root above it holds bin/reranker.
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(EvalCommand.repositoryRoots(Path.of("")).contains(root), EvalCommand.repositoryRoots(Path.of("")).toString());
    }

    @Test
    void badArgumentsAreRejectedBeforeAnythingStarts() {
        EvalCommand command = new EvalCommand(new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()),
                Map.of(), tmp);
        assertThrows(IllegalArgumentException.class, () -> command.run(List.of("--k", "many")));
        assertThrows(IllegalArgumentException.class, () -> command.run(List.of("--k", "0", "--collection", tmp.toString())));
        assertThrows(IllegalArgumentException.class, () -> command.run(List.of("--queries", "0")));
        assertThrows(IllegalArgumentException.class, () -> command.run(List.of("--format", "csv")));
        assertThrows(IllegalArgumentException.class, () -> command.run(List.of("--model-dir")));
        assertThrows(IllegalArgumentException.class, () -> command.run(List.of("--bogus")));
    }

    @Test
    void theProgressBarShowsQueriesDoneOfTotal() {
        ProgressBar bar = new ProgressBar(new PrintStream(new ByteArrayOutputStream()), "eval: reranking queries", 30);
        String line = bar.render(12);
        assertTrue(line.startsWith("eval: reranking queries 12/30 [############..................]  40% "), line);
    }
}
