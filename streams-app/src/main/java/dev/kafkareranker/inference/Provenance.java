package dev.kafkareranker.inference;

/**
 * Which part of a passage a score came from, so that an application can show, or feed on, the part that made
 * it. Tokens are counted on the passage tokenized alone, without special tokens; characters are Unicode code
 * points of the passage as produced (what a Python string indexes; in Java, {@code String.offsetByCodePoints}).
 *
 * @param tokensScored tokens of the passage inside what the model read (all of its chunks together)
 * @param tokensCut    tokens of the passage the model never read: cut by the maximum length, by
 *                     {@code max_document_tokens} or by {@code max_chunks}
 * @param chunks       rows the passage was scored in: 1 when truncated or when it fits one window
 * @param start        the first character of the part that made the score: the best chunk, or the part a
 *                     truncated passage kept
 * @param end          the end of that part, exclusive
 */
public record Provenance(int tokensScored, int tokensCut, int chunks, int start, int end) {

    public Provenance {
        if (tokensScored < 0 || tokensCut < 0 || chunks < 1 || start < 0 || end < start) {
            throw new IllegalArgumentException("not a provenance: tokens scored " + tokensScored + ", cut " + tokensCut + ", chunks "
                    + chunks + ", characters [" + start + ", " + end + ")");
        }
    }
}
