package dev.kafkareranker.inference;

import java.util.ArrayList;
import java.util.List;

/**
 * A request's rows, tokenized and truncated, and for each passage which rows score it: what a
 * {@link ScoringMethod} hands the engine, and gets back with the rows' outputs to make one score per passage.
 *
 * @param rows     the rows to run, in the order their outputs come back
 * @param passages one entry per passage, in the request's order
 */
record EncodedRequest(List<Encoded> rows, List<PassageRows> passages) {

    EncodedRequest {
        rows = List.copyOf(rows);
        passages = List.copyOf(passages);
    }

    /**
     * One passage's rows: {@code chunks} consecutive rows from {@code firstRow}, and what each covers.
     *
     * @param firstRow     its first row in {@link #rows}
     * @param starts       each chunk's first character in the passage (code points)
     * @param ends         each chunk's end, exclusive
     * @param tokensScored the passage's tokens (tokenized alone) the rows hold
     * @param tokensCut    its tokens no row holds
     * @param chunksCut    true when {@code max_chunks} left chunks out
     */
    record PassageRows(int firstRow, int[] starts, int[] ends, int tokensScored, int tokensCut, boolean chunksCut) {

        int chunks() {
            return starts.length;
        }

        PassageRows shifted(int rows) {
            return new PassageRows(firstRow + rows, starts, ends, tokensScored, tokensCut, chunksCut);
        }
    }

    /** Parts of one request tokenized apart (its passages split across the tokenizer pool), joined in order. */
    static EncodedRequest concat(List<EncodedRequest> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        List<Encoded> rows = new ArrayList<>();
        List<PassageRows> passages = new ArrayList<>();
        for (EncodedRequest part : parts) {
            int shift = rows.size();
            rows.addAll(part.rows());
            part.passages().forEach(p -> passages.add(p.shifted(shift)));
        }
        return new EncodedRequest(rows, passages);
    }
}
