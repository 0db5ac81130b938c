package dev.kafkareranker.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition that another thread makes true. The bound only keeps a broken test from hanging
 * the build: a passing test never comes near it, so nothing depends on how fast the machine is.
 */
public final class Await {

    /** Far beyond anything a passing test needs, even on a loaded 2-core machine. */
    public static final Duration HANG = Duration.ofSeconds(60);

    private Await() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} if it does not within {@link #HANG}. */
    public static void until(BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + HANG.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + HANG.toSeconds() + " s: " + what.get());
            }
            // Polls: the conditions are plain state of other threads, which have no latch to count down.
            LockSupport.parkNanos(Duration.ofMillis(1).toNanos());
        }
    }

    public static void until(BooleanSupplier condition, String what) {
        until(condition, () -> what);
    }
}
