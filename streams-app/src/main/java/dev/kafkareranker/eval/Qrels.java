package dev.kafkareranker.eval;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Relevance judgements: for each query id, the graded relevance of each judged document. A grade of 0
 * or less means judged not relevant (TREC and BEIR files list such lines); unjudged documents count as
 * not relevant.
 */
public final class Qrels {

    private final Map<String, Map<String, Integer>> byQuery;

    private Qrels(Map<String, Map<String, Integer>> byQuery) {
        Map<String, Map<String, Integer>> copy = new LinkedHashMap<>();
        byQuery.forEach((q, docs) -> copy.put(q, Collections.unmodifiableMap(new LinkedHashMap<>(docs))));
        this.byQuery = Collections.unmodifiableMap(copy);
    }

    /** Collects judgements line by line, as the readers find them. */
    public static final class Builder {
        private final Map<String, Map<String, Integer>> byQuery = new LinkedHashMap<>();

        /** Records one judgement; a repeated (query, document) keeps the last grade, as trec_eval does. */
        public Builder add(String queryId, String docId, int relevance) {
            byQuery.computeIfAbsent(queryId, q -> new LinkedHashMap<>()).put(docId, relevance);
            return this;
        }

        public Qrels build() {
            return new Qrels(byQuery);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The judged documents of a query and their grades; empty when the query has none. */
    public Map<String, Integer> judgements(String queryId) {
        return byQuery.getOrDefault(queryId, Map.of());
    }

    /** How many documents are judged relevant (grade above 0) for the query. */
    public int relevantCount(String queryId) {
        return (int) judgements(queryId).values().stream().filter(rel -> rel > 0).count();
    }

    /** Query ids that have at least one judgement line, in file order. */
    public Set<String> queryIds() {
        return byQuery.keySet();
    }

    /** All judgement lines. */
    public int size() {
        return byQuery.values().stream().mapToInt(Map::size).sum();
    }
}
