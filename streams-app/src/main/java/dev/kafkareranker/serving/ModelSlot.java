package dev.kafkareranker.serving;

import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.StageTimes;
import dev.kafkareranker.model.ModelLoadException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One named model whose version can be replaced while queries are being scored. Each query is scored
 * by exactly one version: it leases the current one until its future ends. A swap makes the new version
 * current at once; the old one is closed when its last lease ends, so queries in flight finish on it.
 *
 * <p>A lease decides only when a retired version stops taking work. Its native objects (session,
 * tokenizer) are the engine's to close, after the last call into them has returned: a lease that ends
 * early (a query cancelled by a revoked task, or timed out) while the engine still tokenizes it or runs
 * its batch frees nothing under that call.
 */
public final class ModelSlot implements Scorer {

    private static final Logger LOG = LoggerFactory.getLogger(ModelSlot.class);

    private static final class Leased {
        final Scorer scorer;
        final AtomicInteger users = new AtomicInteger();
        final AtomicBoolean retired = new AtomicBoolean();
        final AtomicBoolean closed = new AtomicBoolean();

        Leased(Scorer scorer) {
            this.scorer = scorer;
        }

        /**
         * Closes a retired version once its last lease ended. {@code async}: on a thread of its own, because
         * the lease usually ends on a thread that must not be held: a stream thread cancelling its queries
         * when its task is revoked, the request-timeout timer, the engine's finisher. Closing an engine
         * never waits for its calls, but when none is running it frees the session there and then, and
         * freeing a large model's weights and arenas takes time.
         */
        void closeIfDone(boolean async) {
            if (retired.get() && users.get() == 0 && closed.compareAndSet(false, true)) {
                if (!async) {
                    closeNow();
                    return;
                }
                Thread closer = new Thread(this::closeNow, "model-close-" + scorer.modelName() + "-" + scorer.modelVersion());
                closer.setDaemon(true);
                closer.start();
            }
        }

        private void closeNow() {
            try {
                scorer.close();
                LOG.info("Model {} {} retired and closed", scorer.modelName(), scorer.modelVersion());
            } catch (RuntimeException e) {
                LOG.warn("Closing retired model {} {} failed: {}", scorer.modelName(), scorer.modelVersion(), e.toString());
            }
        }
    }

    private final String name;
    private final AtomicReference<Leased> current;

    public ModelSlot(String name, Scorer first) {
        this.name = name;
        this.current = new AtomicReference<>(new Leased(first));
    }

    private Leased acquire() {
        while (true) {
            Leased leased = current.get();
            leased.users.incrementAndGet();
            // A swap between the read and the increment could have retired it: then take the new one.
            if (current.get() == leased) {
                return leased;
            }
            release(leased);
        }
    }

    private static void release(Leased leased) {
        leased.users.decrementAndGet();
        leased.closeIfDone(true);
    }

    @Override
    public Scoring scoreQuery(String query, List<String> passages) {
        Leased leased = acquire();
        try {
            return new Scoring(leased.scorer.score(query, passages), name, leased.scorer.modelVersion());
        } finally {
            release(leased);
        }
    }

    /** The lease lasts until the scores are in, so a swap never closes a version a query is still using. */
    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        return scoreQueryAsync(query, passages, null);
    }

    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages, StageTimes times) {
        Leased leased = acquire();
        CompletableFuture<Scoring> scoring;
        try {
            scoring = leased.scorer.scoreQueryAsync(query, passages, times);
        } catch (RuntimeException e) {
            release(leased);
            throw e;
        }
        CompletableFuture<Scoring> named = scoring.whenComplete((done, failure) -> release(leased))
                .thenApply(done -> new Scoring(done.scores(), name, leased.scorer.modelVersion()));
        // A caller's cancel (a revoked task) or timeout reaches the engine, which drops the rows not yet run.
        named.whenComplete((done, failure) -> {
            if (failure != null && !scoring.isDone()) {
                scoring.cancel(false);
            }
        });
        return named;
    }

    /** The current version's health: an open breaker reads as not accepting; a new version starts healthy. */
    @Override
    public dev.kafkareranker.inference.ModelHealth health() {
        return current.get().scorer.health();
    }

    /** The current version's queue: a new version starts empty. */
    @Override
    public boolean hasRoom() {
        return current.get().scorer.hasRoom();
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        return scoreQuery(query, passages).scores();
    }

    /**
     * Loads a new version, warms it up with one query, and makes it current; the old version closes
     * when its last query is done. If loading or warming fails, the current version stays and serves on,
     * whatever the failure: an Error too (an OutOfMemoryError or a LinkageError from a native library
     * while loading), which is rethrown as a {@link ModelLoadException} naming the model.
     */
    public String swap(Supplier<Scorer> loader) {
        Scorer next;
        try {
            next = loader.get();
        } catch (RuntimeException e) {
            throw e;
        } catch (Error e) {
            throw new ModelLoadException("Loading a new version of model " + name + " failed (" + e + "); version "
                    + modelVersion() + " keeps serving", e);
        }
        try {
            next.score("warm-up", List.of("warm-up passage"));
        } catch (RuntimeException | Error e) {
            try {
                next.close();
            } catch (RuntimeException | Error closing) {
                e.addSuppressed(closing);
            }
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new ModelLoadException("Warming up a new version of model " + name + " failed (" + e + "); version "
                    + modelVersion() + " keeps serving", e);
        }
        Leased old = current.getAndSet(new Leased(next));
        LOG.info("Model {}: version {} is current (was {})", name, next.modelVersion(), old.scorer.modelVersion());
        old.retired.set(true);
        old.closeIfDone(true);
        return next.modelVersion();
    }

    /** The underlying scorer of the current version, e.g. for its statistics. */
    public Scorer currentScorer() {
        return current.get().scorer;
    }

    @Override
    public String modelName() {
        return name;
    }

    @Override
    public String modelVersion() {
        return current.get().scorer.modelVersion();
    }

    @Override
    public void close() {
        Leased last = current.get();
        last.retired.set(true);
        last.closeIfDone(false);
    }
}
