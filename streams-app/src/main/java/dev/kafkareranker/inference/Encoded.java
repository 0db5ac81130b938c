package dev.kafkareranker.inference;

/**
 * One tokenized sequence, before padding.
 *
 * @param ids     token ids, special tokens included, already truncated
 * @param typeIds segment ids (0 for the query, 1 for the passage in BERT-style pairs)
 */
record Encoded(long[] ids, long[] typeIds) {

    int length() {
        return ids.length;
    }
}
