package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.LongDocuments;
import dev.kafkareranker.model.LongDocuments.ChunkPooling;
import dev.kafkareranker.model.LongDocuments.Mode;
import dev.kafkareranker.model.LongDocuments.TruncationSide;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The window arithmetic alone, on a passage of one-character tokens separated by spaces ("a b c ..."). */
class DocumentWindowsTest {

    /** n tokens of one letter each, at characters 0, 2, 4, ... with a space between. */
    private static int[][] tokens(int n) {
        int[] starts = new int[n];
        int[] ends = new int[n];
        for (int i = 0; i < n; i++) {
            starts[i] = 2 * i;
            ends[i] = 2 * i + 1;
        }
        return new int[][] {starts, ends};
    }

    private static int[] text(int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : " ").append((char) ('a' + i % 26));
        }
        return s.toString().codePoints().toArray();
    }

    private static LongDocuments chunk(TruncationSide side, OptionalInt cap) {
        return new LongDocuments(Mode.CHUNK, OptionalInt.empty(), 16, ChunkPooling.MAX, cap, side, Map.of());
    }

    private static List<List<Integer>> ranges(DocumentWindows.Plan plan) {
        return plan.windows().stream().map(w -> List.of(w.firstToken(), w.endToken())).toList();
    }

    @Test
    void windowsOverlapByTheStrideAndTheLastOneIsShorterFromTheRight() {
        int[][] t = tokens(25);
        DocumentWindows.Plan plan = DocumentWindows.plan(text(25), t[0], t[1], 10, 3, 16, chunk(TruncationSide.RIGHT, OptionalInt.empty()));
        assertEquals(List.of(List.of(0, 10), List.of(7, 17), List.of(14, 24), List.of(21, 25)), ranges(plan));
        assertEquals(25, plan.scored());
        assertEquals(0, plan.cut());
        assertFalse(plan.whole());
        // Characters: from the first token's start to the last token's end; the space after it is not part of it.
        assertEquals(List.of(14, 33), List.of(plan.windows().get(1).start(), plan.windows().get(1).end()));
    }

    @Test
    void fromTheLeftTheWindowsEndAtTheLastTokenAndMaxChunksKeepsTheLastOnes() {
        int[][] t = tokens(25);
        DocumentWindows.Plan plan = DocumentWindows.plan(text(25), t[0], t[1], 10, 3, 2, chunk(TruncationSide.LEFT, OptionalInt.empty()));
        assertEquals(List.of(List.of(8, 18), List.of(15, 25)), ranges(plan));
        assertTrue(plan.chunksCut());
        assertEquals(17, plan.scored());
        assertEquals(8, plan.cut());
    }

    @Test
    void maxChunksKeepsTheFirstWindowsFromTheRightAndCountsTheRestAsCut() {
        int[][] t = tokens(25);
        DocumentWindows.Plan plan = DocumentWindows.plan(text(25), t[0], t[1], 10, 3, 2, chunk(TruncationSide.RIGHT, OptionalInt.empty()));
        assertEquals(List.of(List.of(0, 10), List.of(7, 17)), ranges(plan));
        assertEquals(17, plan.scored());
        assertEquals(8, plan.cut());
        assertTrue(plan.chunksCut());
    }

    @Test
    void theTokenCapComesBeforeTheWindowsOnTheSideItNames() {
        int[][] t = tokens(25);
        DocumentWindows.Plan right = DocumentWindows.plan(text(25), t[0], t[1], 10, 2, 16, chunk(TruncationSide.RIGHT, OptionalInt.of(12)));
        assertEquals(List.of(List.of(0, 10), List.of(8, 12)), ranges(right));
        assertEquals(13, right.cut());
        DocumentWindows.Plan left = DocumentWindows.plan(text(25), t[0], t[1], Integer.MAX_VALUE, 0, 1,
                chunk(TruncationSide.LEFT, OptionalInt.of(12)));
        assertEquals(List.of(List.of(13, 25)), ranges(left));
        assertFalse(left.whole(), "a capped passage is scored as the slice the cap kept");
    }

    @Test
    void aPassageThatFitsIsOneWholeWindowAndAnEmptyOneIsToo() {
        int[][] t = tokens(6);
        DocumentWindows.Plan fits = DocumentWindows.plan(text(6), t[0], t[1], 10, 2, 16, chunk(TruncationSide.RIGHT, OptionalInt.empty()));
        assertTrue(fits.whole());
        assertEquals(List.of(List.of(0, 6)), ranges(fits));
        DocumentWindows.Plan empty = DocumentWindows.plan(new int[0], new int[0], new int[0], 10, 2, 16,
                chunk(TruncationSide.RIGHT, OptionalInt.empty()));
        assertTrue(empty.whole());
        assertEquals(0, empty.tokens());
    }

    @Test
    void whitespaceAtAWindowsEdgesIsLeftOutAsPythonsIsspaceWouldLeaveIt() {
        // Tokens that carry the space before them (SentencePiece, byte-level BPE): " b" at [1, 3), " c" at [3, 5), ...
        String passage = "a\u00a0b\u2003c\u0085d e";
        int[] text = passage.codePoints().toArray();
        int[] starts = {0, 1, 3, 5, 7};
        int[] ends = {1, 3, 5, 7, 9};
        DocumentWindows.Plan plan = DocumentWindows.plan(text, starts, ends, 2, 0, 16, chunk(TruncationSide.RIGHT, OptionalInt.empty()));
        // Tokens 2 and 3 span [3, 7), an em space first: it goes. Token 4 spans [7, 9), a space first: it goes.
        assertEquals(List.of(0, 3), List.of(plan.windows().get(0).start(), plan.windows().get(0).end()));
        assertEquals(List.of(4, 7), List.of(plan.windows().get(1).start(), plan.windows().get(1).end()));
        assertEquals(List.of(8, 9), List.of(plan.windows().get(2).start(), plan.windows().get(2).end()));
        assertTrue(DocumentWindows.isSpace(0x85) && DocumentWindows.isSpace(0xa0) && DocumentWindows.isSpace(0x2003));
        assertFalse(DocumentWindows.isSpace('x'));
    }
}
