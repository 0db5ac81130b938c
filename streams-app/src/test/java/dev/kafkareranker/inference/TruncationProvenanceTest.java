package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelOverrides;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.parity.ChunkedGolden;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * A truncated passage says what of it the model read: the tokens kept and cut, counted against the passage
 * tokenized alone, and the characters kept (a prefix cut from the right, a suffix from the left). And settings
 * that cannot work with the model's window are refused when it loads.
 */
class TruncationProvenanceTest {

    private static final Path GTE = Path.of("..", "tools", "fixtures", "gte-vi-legal");
    private static final Path LLAMA = Path.of("..", "tools", "fixtures", "llama-causal-lm");

    private static ModelOverrides keys(int maxLength, String mode, String side, OptionalInt stride, OptionalInt cap) {
        return new ModelOverrides("model.test.", OptionalInt.of(maxLength), Optional.of(mode), stride, OptionalInt.empty(),
                Optional.empty(), cap, Optional.of(side));
    }

    /** The golden set's 3,019-token Vietnamese passage and its query. */
    private static ChunkedGolden.Passage longPassage() throws Exception {
        return ChunkedGolden.read("gte-vi-legal").sets().get(0).passages().get(1);
    }

    private static EncodedRequest.PassageRows rows(Path dir, ModelOverrides keys, String query, String passage) {
        ModelSpec spec = ModelDirectory.load(dir, keys);
        try (TextEncoder encoder = new TextEncoder(spec)) {
            EncodedRequest request = Scorers.method(spec, encoder).encode(query, List.of(passage));
            assertEquals(1, request.rows().size());
            return request.passages().get(0);
        }
    }

    private static int tokensAlone(Path dir, String passage) {
        ModelSpec spec = ModelDirectory.load(dir);
        try (TextEncoder encoder = new TextEncoder(spec)) {
            return encoder.whole(passage, false).getIds().length;
        }
    }

    @Test
    void cutFromTheRightTheStartIsReadAndTheRestCounted() throws Exception {
        ChunkedGolden.Passage p = longPassage();
        int total = tokensAlone(GTE, p.document());
        assertEquals(p.tokens(), total, "the reference counted the same tokens");
        EncodedRequest.PassageRows rows = rows(GTE, keys(512, "truncate", "right", OptionalInt.empty(), OptionalInt.empty()), p.query(),
                p.document());
        assertTrue(rows.tokensScored() > 400 && rows.tokensScored() < 512, "what the query left of 512: " + rows.tokensScored());
        assertEquals(total, rows.tokensScored() + rows.tokensCut());
        assertEquals(0, rows.starts()[0]);
        assertTrue(rows.ends()[0] < p.document().length() / 4, "a prefix: " + rows.ends()[0]);
    }

    @Test
    void cutFromTheLeftTheEndIsRead() throws Exception {
        ChunkedGolden.Passage p = longPassage();
        EncodedRequest.PassageRows rows = rows(GTE, keys(512, "truncate", "left", OptionalInt.empty(), OptionalInt.empty()), p.query(),
                p.document());
        int length = p.document().codePointCount(0, p.document().length());
        assertEquals(length, rows.ends()[0], "the passage's last character is read");
        assertTrue(rows.starts()[0] > length * 3 / 4, "a suffix: " + rows.starts()[0]);
        assertEquals(tokensAlone(GTE, p.document()), rows.tokensScored() + rows.tokensCut());
    }

    @Test
    void aTokenCapCutsBeforeTheMaxLengthDoes() throws Exception {
        ChunkedGolden.Passage p = longPassage();
        EncodedRequest.PassageRows rows = rows(GTE, keys(512, "truncate", "right", OptionalInt.empty(), OptionalInt.of(100)), p.query(),
                p.document());
        assertTrue(rows.tokensScored() >= 98 && rows.tokensScored() <= 102, "about the 100 tokens the cap kept: " + rows.tokensScored());
        assertEquals(p.tokens() - rows.tokensScored(), rows.tokensCut());
    }

    @Test
    void aShortPassageIsReadWholeAndNothingIsCut() {
        EncodedRequest.PassageRows rows = rows(GTE, keys(512, "truncate", "right", OptionalInt.empty(), OptionalInt.empty()),
                "Điều 5 quy định gì?", "  Người lao động được nghỉ phép năm.  ");
        assertEquals(0, rows.tokensCut());
        assertEquals(tokensAlone(GTE, "Người lao động được nghỉ phép năm."), rows.tokensScored());
        assertEquals(List.of(2, 36), List.of(rows.starts()[0], rows.ends()[0]), "the characters of the words, in the passage as given");
    }

    @Test
    void aCausalLmPromptSaysWhatOfItsDocumentItKept() throws Exception {
        ChunkedGolden.Passage p = longPassage();
        EncodedRequest.PassageRows right = rows(LLAMA, keys(256, "truncate", "right", OptionalInt.empty(), OptionalInt.empty()),
                p.query(), p.document());
        assertEquals(0, right.starts()[0]);
        assertTrue(right.tokensScored() > 50 && right.tokensCut() > 1000, right.tokensScored() + " read, " + right.tokensCut() + " cut");
        EncodedRequest.PassageRows left = rows(LLAMA, keys(256, "truncate", "left", OptionalInt.empty(), OptionalInt.empty()),
                p.query(), p.document());
        assertEquals(p.document().codePointCount(0, p.document().length()), left.ends()[0], "cut from the left, the end is read");
    }

    @Test
    void aStrideNotSmallerThanTheSmallestWindowIsRefusedAtLoadNamingTheKey() {
        ModelSpec spec = ModelDirectory.load(GTE, keys(64, "chunk", "right", OptionalInt.of(40), OptionalInt.empty()));
        try (TextEncoder encoder = new TextEncoder(spec)) {
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> Scorers.method(spec, encoder));
            assertTrue(e.getMessage().contains("model.test.chunk.stride = 40") && e.getMessage().contains("must be less than"), e.getMessage());
        }
    }
}
