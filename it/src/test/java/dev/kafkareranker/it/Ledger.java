package dev.kafkareranker.it;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What left the pipeline, as a read_committed consumer sees it: results per query, the candidates
 * they hold, dead letters, and the duplicates the results report. Tests compare it with what went in.
 */
record Ledger(Map<String, Integer> resultsPerQuery, Set<String> candidatesInResults, int deadLetters, int reportedDuplicates,
              List<String> deadLetterReasons) {

    int results() {
        return resultsPerQuery.values().stream().mapToInt(Integer::intValue).sum();
    }

    long queriesWithMoreThanOneResult() {
        return resultsPerQuery.values().stream().filter(c -> c > 1).count();
    }

    /**
     * Reads from the beginning until every one of {@code expectedQueries} has a result, then to the end: once the
     * app has processed every candidate sent ({@link Drained}), the results and dead letters up to the output topics'
     * committed end are all there will be for that input, so a second result or an extra dead letter is counted
     * here rather than hoped absent after a quiet spell. {@code deadline} bounds each wait, only against a hang.
     */
    static Ledger read(Pipeline pipeline, int expectedQueries, Duration deadline) throws InterruptedException {
        try (ResultWatcher watcher = new ResultWatcher(pipeline)) {
            watcher.awaitQueries(expectedQueries, deadline);
            return toTheEnd(watcher, pipeline, deadline);
        }
    }

    /** {@link #read(Pipeline, int, Duration)} for these queries, on topics that other queries share. */
    static Ledger read(Pipeline pipeline, Collection<String> queryIds, Duration deadline) throws InterruptedException {
        try (ResultWatcher watcher = new ResultWatcher(pipeline)) {
            watcher.awaitResultsFor(queryIds, deadline);
            return toTheEnd(watcher, pipeline, deadline);
        }
    }

    /** Once the expected results are in: what {@code watcher} has read when the app has processed its input and the watcher read to the end. */
    static Ledger toTheEnd(ResultWatcher watcher, Pipeline pipeline, Duration deadline) throws InterruptedException {
        Drained.await(pipeline, deadline);
        watcher.readToEnd(deadline);
        return of(watcher);
    }

    /** What {@code watcher} has read so far. */
    static Ledger of(ResultWatcher watcher) {
        return new Ledger(Map.copyOf(watcher.perQuery), Set.copyOf(watcher.inResults), watcher.deadLetters.size(),
                (int) watcher.reportedDuplicates(), List.copyOf(watcher.deadLetters));
    }
}
