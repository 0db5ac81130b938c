package dev.kafkareranker.gather;

/**
 * The topics the pipeline reads and writes.
 *
 * @param candidates  RetrievalCandidate events from the retriever
 * @param results     RankedResults, keyed by query_id
 * @param deadLetters records that could not become part of a result, with the reason in headers
 */
public record Topics(String candidates, String results, String deadLetters) {

    public static final String DEFAULT_CANDIDATES = "rerank.candidates";
    public static final String DEFAULT_RESULTS = "rerank.results";
    public static final String DEFAULT_DEAD_LETTERS = "rerank.dlq";

    public static Topics defaults() {
        return new Topics(DEFAULT_CANDIDATES, DEFAULT_RESULTS, DEFAULT_DEAD_LETTERS);
    }
}
