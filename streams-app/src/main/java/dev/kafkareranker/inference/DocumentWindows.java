package dev.kafkareranker.inference;

import dev.kafkareranker.model.LongDocuments;
import dev.kafkareranker.model.LongDocuments.TruncationSide;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Cuts a passage, tokenized alone, into the token windows that are scored: the cap on its tokens first
 * ({@code max_document_tokens}, from the side {@code truncation_side} names), then windows of {@code window}
 * tokens that overlap by {@code stride}, at most {@code max_chunks} of them. Each window's text is the
 * passage between its first token's start and its last token's end, less any whitespace at either edge
 * (byte-level and SentencePiece tokens carry the space before a word, so a window can begin or end with one; the
 * cut is the app's, not the user's text, and a chunk without edge whitespace reads the same whether or not a
 * library strips), so a chunk is scored as an ordinary pair; tools/reranker_tools/chunking.py computes the same
 * windows from the same offsets (HF tokenizers' offsets, characters = Unicode code points), which is what makes
 * the two agree. A passage that goes in whole keeps its own whitespace, as every text the references read does.
 *
 * <p>Cut from the right (the default), windows start at the passage's first kept token and the last one
 * may be shorter; cut from the left they mirror that, ending at the last kept token, and the chunks kept
 * under {@code max_chunks} are the last ones. A passage that fits one window is one window.
 */
final class DocumentWindows {

    /**
     * One window: tokens {@code [firstToken, endToken)} of the passage tokenized alone, text {@code [start, end)}
     * of the passage in code points.
     */
    record Window(int firstToken, int endToken, int start, int end) {}

    /**
     * @param windows the windows to score, in passage order
     * @param tokens  the passage's tokens, tokenized alone
     * @param scored  tokens inside some window
     * @param whole   true when the one window is every token: the passage itself is scored, not a slice of it
     * @param chunksCut true when {@code max_chunks} left windows out
     */
    record Plan(List<Window> windows, int tokens, int scored, boolean whole, boolean chunksCut) {

        Plan {
            windows = List.copyOf(windows);
        }

        int cut() {
            return tokens - scored;
        }
    }

    private DocumentWindows() {
    }

    /**
     * @param text    the passage's code points
     * @param starts  each token's first character (code points), from the tokenizer's offsets
     * @param ends    each token's end character, exclusive
     * @param window  tokens per window; {@link Integer#MAX_VALUE} for one window (truncate with a token cap)
     * @param stride  tokens two neighbouring windows share; less than {@code window}
     * @param maxChunks most windows kept
     */
    static Plan plan(int[] text, int[] starts, int[] ends, int window, int stride, int maxChunks, LongDocuments settings) {
        int n = starts.length;
        int first = 0;
        int last = n;
        if (settings.maxDocumentTokens().isPresent() && n > settings.maxDocumentTokens().getAsInt()) {
            int cap = settings.maxDocumentTokens().getAsInt();
            if (settings.side() == TruncationSide.LEFT) {
                first = n - cap;
            } else {
                last = cap;
            }
        }
        if (n == 0) {
            return new Plan(List.of(new Window(0, 0, 0, 0)), 0, 0, true, false);
        }
        List<int[]> ranges = ranges(first, last, window, stride, settings.side());
        boolean chunksCut = ranges.size() > maxChunks;
        if (chunksCut) {
            ranges = settings.side() == TruncationSide.LEFT ? ranges.subList(ranges.size() - maxChunks, ranges.size())
                    : ranges.subList(0, maxChunks);
        }
        List<Window> windows = new ArrayList<>(ranges.size());
        for (int[] r : ranges) {
            windows.add(window(text, starts, ends, r[0], r[1]));
        }
        int scored = ranges.get(ranges.size() - 1)[1] - ranges.get(0)[0];
        boolean whole = ranges.size() == 1 && scored == n;
        return new Plan(windows, n, scored, whole, chunksCut);
    }

    /** Token ranges [from, to) of the windows over tokens [first, last), in passage order. */
    private static List<int[]> ranges(int first, int last, int window, int stride, TruncationSide side) {
        List<int[]> out = new ArrayList<>();
        long step = (long) window - stride;
        if (side == TruncationSide.LEFT) {
            for (long end = last; ; end -= step) {
                long start = Math.max(first, end - window);
                out.add(new int[] {(int) start, (int) end});
                if (start == first) {
                    break;
                }
            }
            Collections.reverse(out);
        } else {
            for (long start = first; ; start += step) {
                long end = Math.min(last, start + window);
                out.add(new int[] {(int) start, (int) end});
                if (end == last) {
                    break;
                }
            }
        }
        return out;
    }

    /**
     * A window's characters: from the smallest start to the largest end of its tokens (byte-level tokenizers give
     * the pieces of one character the same span, and some tokens an empty one), whitespace at the edges left out.
     */
    private static Window window(int[] text, int[] starts, int[] ends, int from, int to) {
        int start = Integer.MAX_VALUE;
        int end = 0;
        for (int i = from; i < to; i++) {
            start = Math.min(start, starts[i]);
            end = Math.max(end, ends[i]);
        }
        if (start == Integer.MAX_VALUE) {
            start = 0;
        }
        end = Math.min(Math.max(end, start), text.length);
        while (start < end && isSpace(text[start])) {
            start++;
        }
        while (end > start && isSpace(text[end - 1])) {
            end--;
        }
        return new Window(from, to, start, end);
    }

    /** Python's {@code str.isspace()}, which the reference trims by: Java's two notions of a space, and NEL. */
    static boolean isSpace(int codePoint) {
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint) || codePoint == 0x85;
    }
}
