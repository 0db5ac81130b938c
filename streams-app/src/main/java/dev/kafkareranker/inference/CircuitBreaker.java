package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model's circuit breaker: {@code threshold} model faults in a row open it; while open, work is
 * refused at once; after the backoff the engine runs a probe batch itself (no input is needed for it,
 * so a pipeline that paused its input still recovers): a success closes it, a failure reopens it with
 * the backoff doubled, up to {@link #MAX_BACKOFF_FACTOR} times the first.
 */
final class CircuitBreaker {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreaker.class);

    /** A model down for long is probed about once a minute with the 5 s default, not thousands of times. */
    static final int MAX_BACKOFF_FACTOR = 16;

    private final String model;
    private final int threshold;
    private final long firstBackoffNanos;
    private final LongSupplier clock;
    private volatile ModelHealth health = ModelHealth.HEALTHY;
    private int consecutive;
    private long backoffNanos;
    private long probeAtNanos;

    /** @param clock nanoseconds, as {@link System#nanoTime()}: the backoff is measured on it */
    CircuitBreaker(String model, int threshold, Duration backoff, LongSupplier clock) {
        if (threshold < 1) {
            throw new IllegalArgumentException("inference.breaker.failures < 1: " + threshold);
        }
        this.model = model;
        this.threshold = threshold;
        this.firstBackoffNanos = Math.max(1, backoff.toNanos());
        this.backoffNanos = firstBackoffNanos;
        this.clock = clock;
    }

    ModelHealth health() {
        return health;
    }

    boolean rejecting() {
        return health.state() != ModelHealth.State.HEALTHY;
    }

    synchronized void success() {
        consecutive = 0;
        if (health.state() == ModelHealth.State.UNAVAILABLE) {
            LOG.info("Model {}: a probe batch succeeded; the circuit breaker is closed and the model takes work again", model);
            health = ModelHealth.HEALTHY;
            backoffNanos = firstBackoffNanos;
        }
    }

    /** Records a model fault; returns true when the breaker is (now) open. */
    synchronized boolean fault(String reason) {
        if (health.state() == ModelHealth.State.DEAD) {
            return true;
        }
        consecutive++;
        if (health.state() == ModelHealth.State.UNAVAILABLE) {
            backoffNanos = Math.min(backoffNanos * 2, firstBackoffNanos * MAX_BACKOFF_FACTOR);
        } else if (consecutive < threshold) {
            return false;
        }
        probeAtNanos = clock.getAsLong() + backoffNanos;
        if (health.state() == ModelHealth.State.HEALTHY) {
            LOG.error("Model {}: {} failed batches in a row (inference.breaker.failures={}); the circuit breaker is open, "
                    + "readiness is down and work is refused until a probe succeeds in {} ms. Last fault: {}",
                    model, consecutive, threshold, backoffNanos / 1_000_000, reason);
        } else {
            LOG.warn("Model {}: the probe batch failed; next probe in {} ms: {}", model, backoffNanos / 1_000_000, reason);
        }
        health = new ModelHealth(ModelHealth.State.UNAVAILABLE, consecutive, reason);
        return true;
    }

    synchronized void dead(String reason) {
        health = new ModelHealth(ModelHealth.State.DEAD, consecutive, reason);
    }

    synchronized boolean probeDue() {
        return health.state() == ModelHealth.State.UNAVAILABLE && clock.getAsLong() - probeAtNanos >= 0;
    }

    /** Nanoseconds until the next probe is due; Long.MAX_VALUE when none is pending. */
    synchronized long nanosUntilProbe() {
        return health.state() == ModelHealth.State.UNAVAILABLE ? Math.max(0, probeAtNanos - clock.getAsLong()) : Long.MAX_VALUE;
    }

    ModelUnavailableException refusal() {
        ModelHealth h = health;
        return new ModelUnavailableException("Model " + model + " is unavailable (" + h.state() + " after " + h.consecutiveFailures()
                + " failed batches in a row; the circuit breaker refuses work until a probe batch succeeds or a new version loads): "
                + h.reason());
    }
}
