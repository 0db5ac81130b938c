package dev.kafkareranker.inference;

/**
 * A piece of a passage (the whole passage, or a chunk of it) inside the text the tokenizer reads (templated, or
 * inside a causal-lm prompt), so that the tokens of the piece can be told from the template's and their characters
 * mapped back to the passage. All positions are Unicode code points.
 *
 * @param text        what the tokenizer reads
 * @param pieceStart  where the piece begins in {@code text}
 * @param pieceLength the piece's length
 * @param offset      where the piece begins in the passage
 */
record DocumentText(String text, int pieceStart, int pieceLength, int offset) {

    /**
     * A piece put into a document template ({@code {document}}; none = as is). Nothing is stripped: the references
     * (sentence-transformers 6.2, transformers) tokenize texts as given.
     */
    static DocumentText templated(String piece, int offset, java.util.Optional<String> template) {
        String before = "";
        String after = "";
        if (template.isPresent()) {
            String t = template.get();
            int at = t.indexOf("{document}");
            before = t.substring(0, at);
            after = t.substring(at + "{document}".length());
        }
        return new DocumentText(before + piece + after, before.codePointCount(0, before.length()), piece.codePointCount(0, piece.length()),
                offset);
    }

    /** What of a piece an encoding kept: its tokens, and their characters in the passage. */
    record Kept(int tokens, int start, int end) {}

    /**
     * The piece's tokens among tokens {@code [0, limit)} of an encoding of {@link #text} that belong to it
     * ({@code sequence} ids and special-token mask; null ids = every token is the text's), and their span in the
     * passage. A token with an empty span (byte-level BPE's lone space marker) counts when it sits inside the piece.
     */
    Kept kept(TextEncoder.Offsets offsets, long[] sequenceIds, long sequence, long[] special, int limit) {
        int[] starts = offsets.starts();
        int[] ends = offsets.ends();
        int from = pieceStart;
        int to = pieceStart + pieceLength;
        int count = 0;
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int i = 0; i < limit; i++) {
            if ((sequenceIds != null && sequenceIds[i] != sequence) || (special != null && special[i] != 0)) {
                continue;
            }
            int s = starts[i];
            int e = ends[i];
            boolean inside = s == e ? s >= from && s <= to : s < to && e > from;
            if (!inside) {
                continue;
            }
            count++;
            if (s < e) {
                min = Math.min(min, s);
                max = Math.max(max, e);
            }
        }
        if (min == Integer.MAX_VALUE) {
            return new Kept(count, offset, offset);
        }
        return new Kept(count, toPassage(min), toPassage(max));
    }

    private int toPassage(int position) {
        return offset + Math.max(0, Math.min(pieceLength, position - pieceStart));
    }
}
