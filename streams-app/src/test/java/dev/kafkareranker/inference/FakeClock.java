package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;

/**
 * The engine's clock, moved by the test: a queue delay, a batch timeout or a breaker's backoff passes when
 * the test says so, never because the machine was slow. Waits return after a millisecond of real time at
 * most, so waiting threads notice a move; what they decide depends on this clock alone.
 */
final class FakeClock implements EngineClock {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    void advance(Duration by) {
        nanos.addAndGet(by.toNanos());
    }

    @Override
    public void await(Condition condition, long ignored) {
        try {
            condition.await(1, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.interrupted();
        }
    }

    @Override
    public void await(Future<?> future, long ignored) {
        try {
            future.get(1, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.interrupted();
        } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
            // The caller reads the outcome.
        }
    }
}
