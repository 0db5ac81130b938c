package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.parity.ChunkedGolden;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The windows Java cuts each golden passage into are the reference's (tools/reranker_tools/chunking.py), every
 * one of them, to the character: the chunks' texts are then the same strings, which is what the score parity
 * rests on. Only the tokenizer runs here.
 */
class ChunkWindowsParityTest {

    @ParameterizedTest
    @ValueSource(strings = {"gte-vi-legal", "roberta-lora", "llama-causal-lm", "bi-encoder"})
    void everyChunkIsTheReferencesWindow(String fixture) throws Exception {
        Path dir = Path.of("..", "tools", "fixtures", fixture);
        int compared = 0;
        for (ChunkedGolden.GoldenSet set : ChunkedGolden.read(fixture).sets()) {
            if (!set.chunked()) {
                continue;
            }
            ModelSpec spec = ModelDirectory.load(dir, set.overrides());
            try (TextEncoder encoder = new TextEncoder(spec)) {
                ScoringMethod method = Scorers.method(spec, encoder);
                for (ChunkedGolden.Passage p : set.passages()) {
                    EncodedRequest request = method.encode(p.query(), List.of(p.document()));
                    EncodedRequest.PassageRows rows = request.passages().get(0);
                    List<List<Integer>> expected = new ArrayList<>();
                    p.chunks().forEach(c -> expected.add(List.of(c.start(), c.end())));
                    List<List<Integer>> actual = new ArrayList<>();
                    for (int c = 0; c < rows.chunks(); c++) {
                        actual.add(List.of(rows.starts()[c], rows.ends()[c]));
                    }
                    String what = fixture + " " + set.name() + " " + p.tokens() + " tokens";
                    assertEquals(expected, actual, what);
                    assertEquals(List.of(p.tokensScored(), p.tokensCut(), p.chunksCut()),
                            List.of(rows.tokensScored(), rows.tokensCut(), rows.chunksCut()), what);
                    assertEquals(p.chunks().size(), request.rows().size() - (fixture.equals("bi-encoder") ? 1 : 0), what + ": one row per chunk");
                    compared += rows.chunks();
                }
            }
        }
        assertTrue(compared >= 10, fixture + ": " + compared + " windows compared");
    }
}
