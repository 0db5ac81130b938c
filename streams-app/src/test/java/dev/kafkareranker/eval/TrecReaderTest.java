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

/** The TREC layout: documents as corpus.tsv or as SGML files under corpus/, topics.tsv, qrels.txt. */
class TrecReaderTest {

    @TempDir
    Path dir;

    private void topicsAndQrels() throws IOException {
        Files.writeString(dir.resolve("topics.tsv"), "301\tinternational organized crime\n302\tpoliomyelitis and post-polio\n");
        Files.writeString(dir.resolve("qrels.txt"), "301 0 FT911-3 1\n301 0 FT911-4 0\n302 0 LA-0001 2\n");
    }

    @Test
    void readsTabSeparatedDocumentsTopicsAndQrels() throws IOException {
        topicsAndQrels();
        Files.writeString(dir.resolve("corpus.tsv"), "FT911-3\tCrime   syndicates cross borders.\n\nLA-0001\tPolio returns.\n");
        TestCollection c = CollectionFormat.TREC.read(dir);

        assertEquals(Map.of("FT911-3", "Crime syndicates cross borders.", "LA-0001", "Polio returns."), c.documents());
        assertEquals(List.of(new EvalQuery("301", "international organized crime"), new EvalQuery("302", "poliomyelitis and post-polio")),
                c.queries());
        assertEquals(Map.of("FT911-3", 1, "FT911-4", 0), c.qrels().judgements("301"));
        assertEquals(Map.of("LA-0001", 2), c.qrels().judgements("302"));
        assertEquals(CollectionFormat.TREC, CollectionFormat.detect(dir));
    }

    @Test
    void readsSgmlDocumentsFromTheCorpusFolder() throws IOException {
        topicsAndQrels();
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(corpus.resolve("ft911.txt"), """
                <DOC>
                <DOCNO> FT911-3 </DOCNO>
                <PROFILE>_AN-BEOA7AAIFT</PROFILE>
                <HEADLINE>Crime syndicates</HEADLINE>
                <TEXT>
                <P>Gangs cross borders.</P>
                </TEXT>
                </DOC>
                <doc><docno>FT911-4</docno><text>Unrelated.</text></doc>
                """);
        TestCollection c = CollectionFormat.TREC.read(dir);

        assertEquals(Map.of("FT911-3", "Crime syndicates Gangs cross borders.", "FT911-4", "Unrelated."), c.documents());
    }

    @Test
    void aQrelsLineWithoutFourColumnsNamesFileAndLine() throws IOException {
        topicsAndQrels();
        Files.writeString(dir.resolve("corpus.tsv"), "FT911-3\tx\n");
        Files.writeString(dir.resolve("qrels.txt"), "301 0 FT911-3 1\n301 FT911-4 1\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.TREC.read(dir));
        assertTrue(e.getMessage().contains("qrels.txt line 2"), e.getMessage());
    }

    @Test
    void withoutDocumentsTheErrorSaysWhereTheyWereExpected() throws IOException {
        topicsAndQrels();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.TREC.read(dir));
        assertTrue(e.getMessage().contains("corpus.tsv") && e.getMessage().contains("corpus"), e.getMessage());
    }
}
