package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A fake slow device around the real ONNX session, for tests of the whole pipeline: every batch the real
 * model scores is held back by a stated delay before its scores are returned, as a large model on a CPU
 * (or a loaded GPU) takes seconds per batch. The engine's own queue is not bounded yet here
 * ({@link Scorer#hasRoom()} answers true), so the scorer around the engine keeps its own count of queries
 * handed over and not finished, and says it has no room at {@code bound}: what the pipeline must answer by
 * pausing its input, never by waiting on a stream thread.
 */
public final class SlowModels {

    /** What the slow model saw; read by the test. */
    public static final class Stats {
        public final AtomicInteger batches = new AtomicInteger();
        public final AtomicInteger queued = new AtomicInteger();
        public final AtomicInteger mostQueued = new AtomicInteger();
        /** Queries handed over while the scorer said it had no room (the bound is soft: the pipeline should not). */
        public final AtomicInteger handedOverWithoutRoom = new AtomicInteger();
        /** How long each query took, handed over to scored, in ms. */
        public final List<Long> queryMillis = new java.util.concurrent.CopyOnWriteArrayList<>();
    }

    private SlowModels() {
    }

    /** Opens each model as ModelRegistry does, each batch held back by {@code delayMs}, room for {@code bound} queries. */
    public static Function<ModelRegistry.Served, Scorer> loader(long delayMs, int bound, Stats stats) {
        return served -> new Counting(Scorers.open(ModelDirectory.load(served.dir()), served.options(), real -> new Delayed(real, delayMs, stats)),
                bound, stats);
    }

    /** The real row model, each run held back by the delay (on the engine's thread: what a slow device does). */
    private static final class Delayed implements RowModel {
        private final RowModel real;
        private final long delayMs;
        private final Stats stats;

        Delayed(RowModel real, long delayMs, Stats stats) {
            this.real = real;
            this.delayMs = delayMs;
            this.stats = stats;
        }

        @Override
        public float[][] run(List<Encoded> rows) {
            float[][] scores = real.run(rows);
            try {
                TimeUnit.MILLISECONDS.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InferenceException("interrupted while slow", e);
            }
            stats.batches.incrementAndGet();
            return scores;
        }

        @Override
        public void cancelRunning() {
            real.cancelRunning();
        }

        @Override
        public void close() {
            real.close();
        }
    }

    /** The engine, with a count of queries in it and no room at the bound. */
    private static final class Counting implements Scorer {
        private final Scorer engine;
        private final int bound;
        private final Stats stats;

        Counting(Scorer engine, int bound, Stats stats) {
            this.engine = engine;
            this.bound = bound;
            this.stats = stats;
        }

        @Override
        public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
            if (!hasRoom()) {
                stats.handedOverWithoutRoom.incrementAndGet();
            }
            stats.mostQueued.accumulateAndGet(stats.queued.incrementAndGet(), Math::max);
            long start = System.nanoTime();
            return engine.scoreQueryAsync(query, passages).whenComplete((s, e) -> {
                stats.queued.decrementAndGet();
                stats.queryMillis.add((System.nanoTime() - start) / 1_000_000);
            });
        }

        @Override
        public boolean hasRoom() {
            return stats.queued.get() < bound && engine.hasRoom();
        }

        @Override
        public boolean accepting() {
            return engine.accepting();
        }

        @Override
        public ModelHealth health() {
            return engine.health();
        }

        @Override
        public List<Score> score(String query, List<String> passages) {
            return engine.score(query, passages);
        }

        @Override
        public String modelName() {
            return engine.modelName();
        }

        @Override
        public String modelVersion() {
            return engine.modelVersion();
        }

        @Override
        public void close() {
            engine.close();
        }
    }
}
