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

    private Path tinySmart(String qrels) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("tiny"));
        Files.writeString(dir.resolve("TINY.ALL"), ".I 1\n.W\nfetal plasma glucose\n.I 7\n.W\nthe crystalline lens\n");
        Files.writeString(dir.resolve("TINY.QRY"), ".I 1\n.W\nlens\n.I 2\n.W\nglucose\n");
        Files.writeString(dir.resolve("TINY.REL"), qrels);
        return dir;
    }

    @Test
    void judgementsThatNameNoQueryStopTheRunBeforeAnythingStarts() throws IOException {
        Path dir = tinySmart("11 7 1\n12 1 1\n");
        EvalCommand command = new EvalCommand(new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()),
                Map.of(), tmp);
        // The model directory does not exist: had anything loaded before the check, that would be the error.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> command.run(
                List.of("--collection", dir.toString(), "--k", "1", "--queries", "1", "--model-dir", tmp.resolve("no-model").toString())));
        assertTrue(e.getMessage().contains("none of the 1 queries") && e.getMessage().contains("[11, 12]"), e.getMessage());
    }

    @Test
    void judgementsThatNameNoDocumentOfTheCollectionStopTheRun() throws IOException {
        Path dir = tinySmart("1 70 1\n2 10 1\n");
        TestCollection collection = CollectionFormat.SMART.read(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EvalRun.checkJudgementsMatch(collection, dir, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("none of the 2 documents judged") && e.getMessage().contains("[70, 10]"), e.getMessage());
    }

    @Test
    void queriesWithoutJudgementsAreNamedInAWarning() throws IOException {
        Path dir = tinySmart("1 7 1\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        EvalRun.checkJudgementsMatch(CollectionFormat.SMART.read(dir), dir, new PrintStream(err, true));
        assertEquals("eval: warning: 1 of 2 queries have no judgements and are left out of the averages: [2]", err.toString().strip());
    }

    @Test
    void theProgressBarShowsQueriesDoneOfTotal() {
        ProgressBar bar = new ProgressBar(new PrintStream(new ByteArrayOutputStream()), "eval: reranking queries", 30);
        String line = bar.render(12);
        assertTrue(line.startsWith("eval: reranking queries 12/30 [############..................]  40% "), line);
    }
}
