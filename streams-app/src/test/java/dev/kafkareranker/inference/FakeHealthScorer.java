package dev.kafkareranker.inference;

import java.util.List;

/**
 * A real scorer whose reported health the test sets, as an open circuit breaker or a dead worker would report it
 * (the breaker's own logic is tested in ModelHealthTest): it scores with the real model; only its health is fake.
 */
public final class FakeHealthScorer implements Scorer {

    private final Scorer real;
    private volatile ModelHealth health = ModelHealth.HEALTHY;

    public FakeHealthScorer(Scorer real) {
        this.real = real;
    }

    /** What {@link #health()} answers from now on. */
    public void report(ModelHealth health) {
        this.health = health;
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        return real.score(query, passages);
    }

    @Override
    public ModelHealth health() {
        return health;
    }

    @Override
    public String modelName() {
        return real.modelName();
    }

    @Override
    public String modelVersion() {
        return real.modelVersion();
    }

    @Override
    public void close() {
        real.close();
    }
}
