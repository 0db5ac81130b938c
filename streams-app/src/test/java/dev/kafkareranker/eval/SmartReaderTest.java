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

/** The SMART layout, on tiny files written as MED's are: CRLF line ends, lines padded with spaces. */
class SmartReaderTest {

    @TempDir
    Path dir;

    private void write(String name, String... lines) throws IOException {
        Files.writeString(dir.resolve(name), String.join("\r\n", lines) + "\r\n");
    }

    private void writeTiny() throws IOException {
        write("TINY.ALL",
                ".I 1", ".W", "correlation between maternal and fetal   ", "plasma levels of glucose .   ",
                ".I 7", ".T", "lens proteins", ".A", "smith, j.", ".W", " the crystalline lens  ");
        write("TINY.QRY", ".I 1", ".W", " the crystalline lens in vertebrates.", ".I 2", ".W", " fetal glucose");
        write("TINY.REL", "1 7 1", "2 1 1", "", "2 7 0");
    }

    @Test
    void readsDocumentsQueriesAndJudgementsWithCrlfAndPadding() throws IOException {
        writeTiny();
        TestCollection c = CollectionFormat.SMART.read(dir);

        assertEquals(Map.of("1", "correlation between maternal and fetal plasma levels of glucose .",
                "7", "lens proteins the crystalline lens"), c.documents());
        assertEquals(List.of("1", "7"), List.copyOf(c.documents().keySet()), "file order kept");
        assertEquals(List.of(new EvalQuery("1", "the crystalline lens in vertebrates."), new EvalQuery("2", "fetal glucose")), c.queries());
        assertEquals(Map.of("7", 1), c.qrels().judgements("1"));
        assertEquals(Map.of("1", 1, "7", 0), c.qrels().judgements("2"));
        assertEquals(1, c.qrels().relevantCount("2"));
        assertEquals(3, c.qrels().size());
        assertEquals(dir.getFileName().toString(), c.name());
    }

    @Test
    void isDetectedByItsThreeFiles() throws IOException {
        writeTiny();
        assertEquals(CollectionFormat.SMART, CollectionFormat.detect(dir));
    }

    @Test
    void aJudgementLineOfAnotherShapeNamesFileAndLine() throws IOException {
        writeTiny();
        write("TINY.REL", "1 7 1", "2 1 0 0.000000 9");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.SMART.read(dir));
        assertTrue(e.getMessage().contains("TINY.REL line 2") && e.getMessage().contains("5 columns"), e.getMessage());
    }

    @Test
    void cisiFourColumnJudgementsMarkEveryListedPairRelevant() throws IOException {
        writeTiny();
        // CISI.REL exactly as distributed: right-aligned ids, then tabs, then the 0 and 0.000000 placeholders.
        Files.writeString(dir.resolve("TINY.REL"), "     1     7\t0\t0.000000\n     2     1\t0\t0.000000\n     2     7\t0\t0.000000\n");
        TestCollection c = CollectionFormat.SMART.read(dir);
        assertEquals(Map.of("7", 1), c.qrels().judgements("1"));
        assertEquals(Map.of("1", 1, "7", 1), c.qrels().judgements("2"));
        assertEquals(2, c.qrels().relevantCount("2"), "a listed pair is relevant although its third column is 0");
    }

    @Test
    void aRepeatedDocumentIdIsAnError() throws IOException {
        writeTiny();
        write("TINY.ALL", ".I 1", ".W", "one", ".I 1", ".W", "again");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.SMART.read(dir));
        assertTrue(e.getMessage().contains("line 4") && e.getMessage().contains("appears twice"), e.getMessage());
    }
}
