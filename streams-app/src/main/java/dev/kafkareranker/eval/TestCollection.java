package dev.kafkareranker.eval;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test collection in memory: documents, queries and relevance judgements.
 *
 * @param name      a short name for reports (the directory name)
 * @param documents document id to text, in file order (the index keeps that order, so BM25 ties break
 *                  the same way on every run)
 * @param queries   queries in file order
 * @param qrels     relevance judgements
 */
public record TestCollection(String name, Map<String, String> documents, List<EvalQuery> queries, Qrels qrels) {

    public TestCollection {
        documents = Collections.unmodifiableMap(new LinkedHashMap<>(documents));
        queries = List.copyOf(queries);
    }

    /** The same collection with only its first {@code limit} queries: for quick runs. */
    public TestCollection firstQueries(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("query limit < 1: " + limit);
        }
        return limit >= queries.size() ? this : new TestCollection(name, documents, queries.subList(0, limit), qrels);
    }
}
