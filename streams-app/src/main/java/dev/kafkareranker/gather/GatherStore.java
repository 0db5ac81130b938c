package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.avro.internal.StoredCandidate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gathering state of one task, typed: every key encoding of its three stores lives here, and only
 * here. The stores and their changelogs outlive versions of this app, so what earlier versions wrote is
 * still read.
 *
 * <p>Key families:
 * <ul>
 *   <li>queries: {@code query_id} → {@link QueryState} (one small record per query, rewritten as it gathers);</li>
 *   <li>candidates: {@code <length of query_id>:<query_id><doc_id>} → {@link StoredCandidate}, found by prefix
 *       scan: length-prefixed, so no query_id is a prefix of another's keys. Earlier versions wrote
 *       {@code <query_id>NUL<doc_id>}; such entries are still found, by their exact key (the prefix alone
 *       would also match query {@code X NUL y}'s);</li>
 *   <li>deadlines store, three families of String values:
 *     <ul>
 *       <li>{@code W|<19-digit ms>|<query_id>} → the source partition of its first candidate
 *           ({@code partition@topic}; earlier versions wrote the query_id): max-wait deadlines of gathering
 *           queries, ordered by time so that a scan reads only the expired ones;</li>
 *       <li>{@code E|<19-digit ms>|<query_id>} → the query_id: when an emitted query's state is forgotten
 *           (until then a candidate for it is late);</li>
 *       <li>{@code S|<query_id>} → {@code C<timestamp>} or {@code I<timestamp>}: the query is ready
 *           (complete or not) and being scored or waiting for the model, with its result's record
 *           timestamp. Written in the transaction that ended its gathering, removed in the one that
 *           forwards its result: a task that stops in between scores it again (earlier versions wrote it
 *           only for queries handed over; it reads the same).</li>
 *     </ul></li>
 * </ul>
 */
final class GatherStore {

    /** Store keys of earlier versions: query_id NUL doc_id. */
    private static final String LEGACY_SEPARATOR = "\u0000";
    private static final String WAIT = "W|";
    private static final String EXPIRE = "E|";
    private static final String SCORING = "S|";
    private static final String COMPLETE = "C";
    private static final String INCOMPLETE = "I";
    /** The longest deadline key's time part: 19 digits and a bar. */
    private static final int TIME_CHARS = 20;

    /** A gathering query's max-wait deadline; {@code source}: its first candidate's partition, or null when an earlier version stored none. */
    record Deadline(String queryId, long at, String source) {}

    /** An emitted query whose state is forgotten at {@code at}. */
    record Expiry(String queryId, long at, String key) {}

    /** A ready query (being scored or waiting for the model): whether it was complete, and its result's record timestamp. */
    record Ready(String queryId, boolean complete, long timestamp) {}

    /** One stored candidate and its key. */
    record Gathered(String key, StoredCandidate stored) {}

    private final StoreTable<QueryState> queries;
    private final StoreTable<StoredCandidate> candidates;
    private final StoreTable<String> deadlines;

    GatherStore(StoreTable<QueryState> queries, StoreTable<StoredCandidate> candidates, StoreTable<String> deadlines) {
        this.queries = queries;
        this.candidates = candidates;
        this.deadlines = deadlines;
    }

    QueryState query(String queryId) {
        return queries.get(queryId);
    }

    void putQuery(QueryState query) {
        queries.put(query.getQueryId(), query);
    }

    void deleteQuery(String queryId) {
        queries.delete(queryId);
    }

    /** Whether the query holds this document already, under this version's key or an earlier one's. */
    boolean hasCandidate(String queryId, String docId) {
        return candidates.get(candidateKey(queryId, docId)) != null || candidates.get(legacyKey(queryId, docId)) != null;
    }

    void putCandidate(String queryId, String docId, StoredCandidate stored) {
        candidates.put(candidateKey(queryId, docId), stored);
    }

    /**
     * The query's candidates: this version's in doc-id order (a fixed order keeps a query's own batches the
     * same whatever the arrival order was), then those an earlier version stored.
     */
    List<Gathered> candidates(String queryId) {
        List<Gathered> out = new ArrayList<>();
        for (Map.Entry<String, StoredCandidate> e : candidates.prefix(candidatePrefix(queryId))) {
            out.add(new Gathered(e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, StoredCandidate> e : candidates.prefix(queryId + LEGACY_SEPARATOR)) {
            RetrievalCandidate c = e.getValue().getCandidate();
            if (c.getQueryId().equals(queryId) && e.getKey().equals(legacyKey(queryId, c.getDocId()))) {
                out.add(new Gathered(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    /** The stored candidate under {@code key} (from {@link #candidates}), or null once deleted. */
    StoredCandidate candidate(String key) {
        return candidates.get(key);
    }

    void deleteCandidate(String key) {
        candidates.delete(key);
    }

    void addDeadline(String queryId, long at, String source) {
        deadlines.put(deadlineKey(WAIT, at, queryId), source);
    }

    void removeDeadline(String queryId, long at) {
        deadlines.delete(deadlineKey(WAIT, at, queryId));
    }

    /** Deadlines at or before {@code upTo}, earliest first. */
    List<Deadline> deadlinesUpTo(long upTo) {
        List<Deadline> out = new ArrayList<>();
        for (Map.Entry<String, String> e : upTo(WAIT, upTo)) {
            String queryId = queryIdOf(WAIT, e.getKey());
            // Earlier versions stored the query_id as the value; this one the source partition.
            out.add(new Deadline(queryId, timeOf(WAIT, e.getKey()), e.getValue().equals(queryId) ? null : e.getValue()));
        }
        return out;
    }

    /** The earliest deadline, or null when no query is gathering. */
    Deadline earliestDeadline() {
        Map.Entry<String, String> e = deadlines.first(WAIT);
        if (e == null) {
            return null;
        }
        String queryId = queryIdOf(WAIT, e.getKey());
        return new Deadline(queryId, timeOf(WAIT, e.getKey()), e.getValue().equals(queryId) ? null : e.getValue());
    }

    /** Gathering queries: one deadline each. */
    int countDeadlines() {
        return deadlines.count(WAIT);
    }

    void addExpiry(String queryId, long at) {
        deadlines.put(deadlineKey(EXPIRE, at, queryId), queryId);
    }

    List<Expiry> expiriesUpTo(long upTo) {
        List<Expiry> out = new ArrayList<>();
        for (Map.Entry<String, String> e : upTo(EXPIRE, upTo)) {
            out.add(new Expiry(e.getValue(), timeOf(EXPIRE, e.getKey()), e.getKey()));
        }
        return out;
    }

    void removeExpiry(Expiry expiry) {
        deadlines.delete(expiry.key());
    }

    void markReady(Ready ready) {
        deadlines.put(SCORING + ready.queryId(), (ready.complete() ? COMPLETE : INCOMPLETE) + ready.timestamp());
    }

    void unmarkReady(String queryId) {
        deadlines.delete(SCORING + queryId);
    }

    /** Every ready query's mark, by query_id. */
    List<Ready> readyMarks() {
        List<Ready> out = new ArrayList<>();
        for (Map.Entry<String, String> e : deadlines.prefix(SCORING)) {
            out.add(new Ready(e.getKey().substring(SCORING.length()), e.getValue().startsWith(COMPLETE),
                    Long.parseLong(e.getValue().substring(1))));
        }
        return out;
    }

    private List<Map.Entry<String, String>> upTo(String prefix, long upTo) {
        if (upTo < 0) {
            return List.of();
        }
        return deadlines.range(deadlineKey(prefix, 0, ""), deadlineKey(prefix, upTo, "\uffff"));
    }

    /** Length-prefixed: the keys of query X never begin with query X NUL y's prefix, nor the other way round. */
    static String candidatePrefix(String queryId) {
        return queryId.length() + ":" + queryId;
    }

    static String candidateKey(String queryId, String docId) {
        return candidatePrefix(queryId) + docId;
    }

    static String legacyKey(String queryId, String docId) {
        return queryId + LEGACY_SEPARATOR + docId;
    }

    static String queryIdOf(String prefix, String key) {
        return key.substring(prefix.length() + TIME_CHARS);
    }

    static long timeOf(String prefix, String key) {
        return Long.parseLong(key, prefix.length(), prefix.length() + TIME_CHARS - 1, 10);
    }

    /** Sorts by time as text within a prefix: 19 digits cover every non-negative long. */
    static String deadlineKey(String prefix, long millis, String queryId) {
        // Zero-padded to 19 digits so keys sort by time; by hand, not String.format("%019d|%s"), which built a
        // Formatter (and its regex) for every candidate on the stream thread (seen in a JFR profile of bench (e)).
        if (millis < 0) {
            return prefix + String.format("%019d|%s", millis, queryId);  // the old layout for what should never be
        }
        String digits = Long.toString(millis);
        StringBuilder key = new StringBuilder(prefix.length() + TIME_CHARS + queryId.length()).append(prefix);
        for (int i = digits.length(); i < TIME_CHARS - 1; i++) {
            key.append('0');
        }
        return key.append(digits).append('|').append(queryId).toString();
    }

    /** The key of a gathering query's deadline, as stores hold it (for tests that set up what an earlier version left). */
    static String waitKey(long at, String queryId) {
        return deadlineKey(WAIT, at, queryId);
    }
}
