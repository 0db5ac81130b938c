package dev.kafkareranker.eval;

/**
 * One query of a test collection.
 *
 * @param id   the id the relevance judgements use
 * @param text the query text, whitespace collapsed
 */
public record EvalQuery(String id, String text) {

    public EvalQuery {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("query id is blank: '" + id + "'");
        }
        if (text == null) {
            throw new IllegalArgumentException("query " + id + " has no text");
        }
    }
}
