package dev.kafkareranker.inference;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Scores one query against its passages. Implementations are thread-safe and own native resources. */
public interface Scorer extends AutoCloseable {

    /** One score per passage, in the passages' order. */
    List<Score> score(String query, List<String> passages);

    /**
     * Scores and says which model version did: a scorer whose model can be swapped reports the version
     * that actually produced these scores, not whichever is current when the caller asks.
     */
    default Scoring scoreQuery(String query, List<String> passages) {
        return new Scoring(score(query, passages), modelName(), modelVersion());
    }

    /**
     * Scores without holding the caller: a stream thread hands a query over and goes on gathering while
     * the model runs. The future fails with an {@link InferenceException} when scoring fails (a
     * {@link ModelUnavailableException} when the model, not the input, is at fault); cancelling it drops
     * the rows that have not run yet. This default
     * scores on the calling thread, for scorers that have nothing to overlap.
     */
    default CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        try {
            return CompletableFuture.completedFuture(scoreQuery(query, passages));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * As {@link #scoreQueryAsync(String, List)}, and, when {@code times} is not null, notes in it where the
     * request's time went (tokenizing, queueing, the model batches that ran it) for the caller's trace. A scorer
     * that wraps another passes {@code times} on; this default, for scorers without those stages, notes nothing.
     */
    default CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages, StageTimes times) {
        return scoreQueryAsync(query, passages);
    }

    /**
     * Whether this scorer's model takes work now, and if not why: an open circuit breaker, a dead
     * worker. Scorers without such faults are always healthy.
     */
    default ModelHealth health() {
        return ModelHealth.HEALTHY;
    }

    /**
     * False while work handed over would only fail with a {@link ModelUnavailableException}: a caller
     * should hold its input back (pause) and ask again; true again once a probe batch succeeded or a new
     * model version loaded.
     */
    default boolean accepting() {
        return health().accepting();
    }

    /**
     * Whether this scorer's queue has room for more work now: false while the rows it holds and has not run
     * reach its bound. Work handed over anyway is taken (the bound is soft), but a caller should hold new
     * work back, and an app pause its input, until it says true again. Never blocks. Scorers without a
     * queue always have room.
     */
    default boolean hasRoom() {
        return true;
    }

    /** Scores with the model that produced them. */
    record Scoring(List<Score> scores, String modelName, String modelVersion) {}

    /** The model's name, as results report it. */
    String modelName();

    /** The model's version, as results report it. */
    String modelVersion();

    @Override
    void close();
}
