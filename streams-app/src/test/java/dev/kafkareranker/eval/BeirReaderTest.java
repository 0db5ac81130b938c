package dev.kafkareranker.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BEIR's layout: corpus.jsonl, queries.jsonl, qrels/test.tsv with its header line. */
class BeirReaderTest {

    @TempDir
    Path dir;

    private void writeTiny() throws IOException {
        Files.writeString(dir.resolve("corpus.jsonl"), """
                {"_id": "MED-10", "title": "Statin use", "text": "Statins and breast cancer survival."}
                {"_id": "MED-14", "title": "", "text": "Vitamin D  levels."}
                """);
        Files.writeString(dir.resolve("queries.jsonl"), """
                {"_id": "PLAIN-3", "text": "breast cancer statins"}
                {"_id": "PLAIN-4", "text": "a train-split query"}
                {"_id": "PLAIN-5", "text": "vitamin d"}
                """);
        Files.createDirectories(dir.resolve("qrels"));
        Files.writeString(dir.resolve("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nPLAIN-3\tMED-10\t2\nPLAIN-5\tMED-14\t1\nPLAIN-5\tMED-10\t0\n");
    }

    @Test
    void readsCorpusQueriesAndTestJudgements() throws IOException {
        writeTiny();
        TestCollection c = CollectionFormat.BEIR.read(dir);

        assertEquals(Map.of("MED-10", "Statin use Statins and breast cancer survival.", "MED-14", "Vitamin D levels."), c.documents());
        assertEquals(Map.of("MED-10", 2), c.qrels().judgements("PLAIN-3"));
        assertEquals(Map.of("MED-14", 1, "MED-10", 0), c.qrels().judgements("PLAIN-5"));
        assertEquals(CollectionFormat.BEIR, CollectionFormat.detect(dir));
    }

    @Test
    void keepsOnlyTheQueriesTheTestSplitJudges() throws IOException {
        writeTiny();
        TestCollection c = CollectionFormat.BEIR.read(dir);

        assertEquals(List.of(new EvalQuery("PLAIN-3", "breast cancer statins"), new EvalQuery("PLAIN-5", "vitamin d")), c.queries());
    }

    @Test
    void aLineThatIsNotJsonNamesFileAndLine() throws IOException {
        writeTiny();
        Files.writeString(dir.resolve("corpus.jsonl"), "{\"_id\": \"a\", \"text\": \"ok\"}\nnot json\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.BEIR.read(dir));
        assertTrue(e.getMessage().contains("corpus.jsonl line 2"), e.getMessage());
    }

    @Test
    void aDirectoryOfNoKnownLayoutIsNamedWithWhatEachLayoutNeeds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.detect(dir));
        assertTrue(e.getMessage().contains("corpus.jsonl") && e.getMessage().contains("*.ALL") && e.getMessage().contains("--format"),
                e.getMessage());
    }
}
