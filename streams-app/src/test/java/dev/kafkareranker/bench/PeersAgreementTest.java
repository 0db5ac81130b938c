package dev.kafkareranker.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeersAgreementTest {

    private static double[] ramp(int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = n - i;
        }
        return out;
    }

    @Test
    void aSwapInsideTheTopTenKeepsTheSetButNotTheOrder() {
        double[] fp32 = ramp(12);
        double[] swapped = fp32.clone();
        swapped[3] = fp32[4];
        swapped[4] = fp32[3];
        Int8Agreement a = Int8Agreement.of(List.of(fp32, fp32), List.of(fp32.clone(), swapped));
        assertEquals(2, a.queries());
        assertEquals(1, a.sameOrder());
        assertEquals(2, a.sameSet());
        // Two of 24 scores moved by 1 each.
        assertEquals(2.0 / 24, a.meanAbsError(), 1e-12);
        assertEquals(1.0, a.maxAbsError(), 1e-12);
    }

    @Test
    void aCandidateEnteringFromBelowTheTopTenChangesTheSet() {
        double[] fp32 = ramp(12);
        double[] int8 = fp32.clone();
        int8[11] = 100; // last becomes first: candidate 9 drops out of the top 10
        Int8Agreement a = Int8Agreement.of(List.of(fp32), List.of(int8));
        assertEquals(0, a.sameOrder());
        assertEquals(0, a.sameSet());
        assertEquals(99.0 / 12, a.meanAbsError(), 1e-12);
    }

    @Test
    void medPairsAreRealQueriesWithTheirBm25Candidates(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("MED.ALL"), ".I 1\n.W\nfatty acids cross the placental barrier\n"
                + ".I 2\n.W\nthe crystalline lens of vertebrates\n.I 3\n.W\nlens opacity and the crystalline proteins\n");
        Files.writeString(dir.resolve("MED.QRY"), ".I 1\n.W\n the crystalline lens in vertebrates\n.I 2\n.W\n placental fatty acids\n");
        Files.writeString(dir.resolve("MED.REL"), "1 2 1\n2 1 1\n");
        Workload w = MedWorkload.load(Optional.of(dir), 1, 2).orElseThrow();
        assertEquals(1, w.queries().size());
        assertEquals("the crystalline lens in vertebrates", w.queries().get(0).text());
        assertEquals(List.of("the crystalline lens of vertebrates", "lens opacity and the crystalline proteins"), w.queries().get(0).passages());
        assertTrue(MedWorkload.load(Optional.of(dir.resolve("absent")), 1, 2).isEmpty());
    }
}
