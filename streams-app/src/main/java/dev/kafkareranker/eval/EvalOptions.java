package dev.kafkareranker.eval;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What one {@code eval} run does.
 *
 * @param collection the test collection's directory
 * @param format     its layout; empty = detect from the files present
 * @param k          candidates BM25 hands to the reranker per query, and the cut-off of Recall@k
 * @param modelDir   the reranker's model directory; empty = {@code model.dir} from the environment, else the bundled model
 * @param queryLimit evaluate only the first this many queries; 0 = all
 */
public record EvalOptions(Path collection, Optional<CollectionFormat> format, int k, Optional<Path> modelDir, int queryLimit) {

    /**
     * 100: the depth rerankers are usually given in the literature (BEIR, MS MARCO), and enough for
     * Recall@100 to show what the first stage leaves the reranker to work with.
     */
    public static final int DEFAULT_K = 100;

    public EvalOptions {
        if (k < 1) {
            throw new IllegalArgumentException("--k must be at least 1: " + k);
        }
        if (queryLimit < 0) {
            throw new IllegalArgumentException("query limit < 0: " + queryLimit);
        }
    }
}
