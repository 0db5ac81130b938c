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

/** Cranfield's three files as distributed: lower-case names, .I numbers with gaps, grades 1 (best) to 4 and -1. */
class CranfieldReaderTest {

    @TempDir
    Path dir;

    private void writeTiny() throws IOException {
        Files.writeString(dir.resolve("cran.all.1400"), String.join("\n",
                ".I 1", ".T", "experimental investigation of the aerodynamics of a", "wing in a slipstream .",
                ".A", "brenckman,m.", ".B", "j. ae. scs. 25, 1958, 324.", ".W", "an experimental study of a wing .",
                ".I 2", ".T", "simple shear flow past a flat plate", ".A", "ting-yili", ".B", "", ".W", "the flow past a plate .",
                ".I 3", ".T", "boundary layer", ".W", "heat transfer .") + "\n");
        // .I numbers 001, 002, 004: cranqrel calls them 1, 2, 3.
        Files.writeString(dir.resolve("cran.qry"), String.join("\n",
                ".I 001", ".W", "what similarity laws must be obeyed", ".I 002", ".W", "shear flow past a plate",
                ".I 004", ".W", "heat transfer in boundary layers") + "\n");
        Files.writeString(dir.resolve("cranqrel"), "1 1 2\n1 2 4\n2 2 1\n2 3 -1\n3 3 3\n");
    }

    @Test
    void queriesAreNumberedByPositionAsCranqrelNumbersThem() throws IOException {
        writeTiny();
        TestCollection c = CollectionFormat.CRANFIELD.read(dir);
        assertEquals(List.of("1", "2", "3"), c.queries().stream().map(EvalQuery::id).toList());
        assertEquals("heat transfer in boundary layers", c.queries().get(2).text(), "query 3 is .I 004");
        assertEquals(3, c.documents().size());
        assertTrue(c.documents().get("1").startsWith("experimental investigation"), "title and abstract kept, authors dropped");
        assertTrue(!c.documents().get("1").contains("brenckman"), c.documents().get("1"));
    }

    @Test
    void gradesOneToFourBecomeGainsFourToOneAndMinusOneIsNotRelevant() throws IOException {
        writeTiny();
        TestCollection c = CollectionFormat.CRANFIELD.read(dir);
        assertEquals(Map.of("1", 3, "2", 1), c.qrels().judgements("1"));
        assertEquals(Map.of("2", 4, "3", 0), c.qrels().judgements("2"));
        assertEquals(1, c.qrels().relevantCount("2"));
        assertEquals(Map.of("3", 2), c.qrels().judgements("3"));
    }

    @Test
    void isDetectedByItsThreeFileNames() throws IOException {
        writeTiny();
        assertEquals(CollectionFormat.CRANFIELD, CollectionFormat.detect(dir));
        assertEquals(CollectionFormat.CRANFIELD, CollectionFormat.parse("cranfield"));
    }

    @Test
    void aGradeOutsideCranfieldsScaleNamesFileAndLine() throws IOException {
        writeTiny();
        Files.writeString(dir.resolve("cranqrel"), "1 1 2\n1 2 7\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CollectionFormat.CRANFIELD.read(dir));
        assertTrue(e.getMessage().contains("cranqrel line 2") && e.getMessage().contains("grade 7"), e.getMessage());
    }
}
