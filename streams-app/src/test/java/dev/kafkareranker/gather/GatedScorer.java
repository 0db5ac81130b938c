package dev.kafkareranker.gather;

import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test double for the asynchronous hand-over: each query's scores arrive only when the test releases
 * them (with {@link StatedScoreScorer}'s stated scores), so a test decides what is still being scored.
 */
class GatedScorer implements Scorer {

    private final StatedScoreScorer stated = new StatedScoreScorer("gated");
    private final Map<String, CompletableFuture<Scoring>> pending = new ConcurrentHashMap<>();
    private final Map<String, List<String>> passagesByQuery = new ConcurrentHashMap<>();
    final AtomicInteger outstanding = new AtomicInteger();
    final AtomicInteger mostOutstanding = new AtomicInteger();

    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        CompletableFuture<Scoring> future = new CompletableFuture<>();
        passagesByQuery.put(query, passages);
        pending.put(query, future);
        mostOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
        return future;
    }

    /** Whether {@code query} (its text) has been handed over and not yet released. */
    boolean isScoring(String query) {
        CompletableFuture<Scoring> future = pending.get(query);
        return future != null && !future.isDone();
    }

    void release(String query) {
        outstanding.decrementAndGet();
        pending.get(query).complete(new Scoring(stated.score(query, passagesByQuery.get(query)), "gated", "test"));
    }

    void fail(String query, RuntimeException cause) {
        outstanding.decrementAndGet();
        pending.get(query).completeExceptionally(cause);
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        throw new UnsupportedOperationException("the pipeline scores through scoreQueryAsync");
    }

    @Override
    public String modelName() {
        return "gated";
    }

    @Override
    public String modelVersion() {
        return "test";
    }

    @Override
    public void close() {
    }
}
