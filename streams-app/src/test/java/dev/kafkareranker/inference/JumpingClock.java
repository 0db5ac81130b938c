package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;

/**
 * The system's clock, which the test can make jump ahead: short delays pass as they do in production,
 * while a long timeout passes exactly when the test says, never because the machine was slow. Waits last
 * a millisecond at most, so waiting threads notice a jump.
 */
final class JumpingClock implements EngineClock {

    private final AtomicLong jumped = new AtomicLong();

    @Override
    public long nanoTime() {
        return System.nanoTime() + jumped.get();
    }

    void jump(Duration by) {
        jumped.addAndGet(by.toNanos());
    }

    @Override
    public void await(Condition condition, long nanos) {
        try {
            condition.awaitNanos(Math.min(nanos, TimeUnit.MILLISECONDS.toNanos(1)));
        } catch (InterruptedException e) {
            Thread.interrupted();
        }
    }

    @Override
    public void await(Future<?> future, long nanos) {
        try {
            future.get(Math.min(nanos, TimeUnit.MILLISECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.interrupted();
        } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
            // The caller reads the outcome.
        }
    }
}
