package dev.kafkareranker.inference;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;

/**
 * The engine's time: what the queue's delay, the batch timeout and the breaker's backoff are measured on,
 * and how the engine's threads wait for them. Injected so that a test can move time itself instead of
 * waiting for it; every wait may return early, and every caller checks its deadline again.
 */
interface EngineClock {

    /** Now, in nanoseconds from an arbitrary origin, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Waits on {@code condition}, whose lock the caller holds, until it is signalled or about {@code nanos}
     * of this clock have passed ({@link Long#MAX_VALUE}: until signalled). Returns early on an interrupt,
     * with the flag cleared: the engine's threads are never interrupted on purpose.
     */
    void await(Condition condition, long nanos);

    /** Waits until {@code future} is done or about {@code nanos} of this clock have passed; its outcome is not read. */
    void await(Future<?> future, long nanos);

    /** The system's monotonic clock. */
    EngineClock SYSTEM = new EngineClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void await(Condition condition, long nanos) {
            try {
                if (nanos == Long.MAX_VALUE) {
                    condition.await();
                } else {
                    condition.awaitNanos(nanos);
                }
            } catch (InterruptedException e) {
                Thread.interrupted();
            }
        }

        @Override
        public void await(Future<?> future, long nanos) {
            try {
                future.get(nanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.interrupted();
            } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
                // Done with a failure, or not done yet: the caller reads which.
            }
        }
    };
}
