package dev.kafkareranker.serving;

import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
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
 * by exactly one version: it leases the current one for the whole call. A swap makes the new version
 * current at once; the old one is closed when its last lease ends, so batches in flight finish on it.
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

        void closeIfDone() {
            if (retired.get() && users.get() == 0 && closed.compareAndSet(false, true)) {
                LOG.info("Model {} {} retired and closed", scorer.modelName(), scorer.modelVersion());
                scorer.close();
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
        leased.closeIfDone();
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
        Leased leased = acquire();
        CompletableFuture<Scoring> scoring;
        try {
            scoring = leased.scorer.scoreQueryAsync(query, passages);
        } catch (RuntimeException e) {
            release(leased);
            throw e;
        }
        return scoring.whenComplete((done, failure) -> release(leased))
                .thenApply(done -> new Scoring(done.scores(), name, leased.scorer.modelVersion()));
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        return scoreQuery(query, passages).scores();
    }

    /**
     * Loads a new version, warms it up with one query, and makes it current; the old version closes
     * when its last query is done. If loading or warming fails, the current version stays.
     */
    public String swap(Supplier<Scorer> loader) {
        Scorer next = loader.get();
        try {
            next.score("warm-up", List.of("warm-up passage"));
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        Leased old = current.getAndSet(new Leased(next));
        LOG.info("Model {}: version {} is current (was {})", name, next.modelVersion(), old.scorer.modelVersion());
        old.retired.set(true);
        old.closeIfDone();
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
        last.closeIfDone();
    }
}
