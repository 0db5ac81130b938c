package dev.kafkareranker.it;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition, never for a time: the tests' one poll loop. The deadline only bounds a hang (a loaded
 * machine is slow, so it is generous); when it passes, the failure says what was awaited and what was seen last.
 * Hand-written rather than Awaitility: the loop is a dozen lines, and the module needs nothing else of it.
 */
public final class Await {

    /** How often a condition is looked at: short beside any deadline here, long beside the look's own cost. */
    private static final long POLL_MS = 20;

    private Await() {
    }

    /**
     * Returns once {@code condition} holds.
     *
     * @param what  what is awaited, for the failure's message
     * @param state what was seen, asked once when the deadline has passed
     */
    public static void until(String what, Duration deadline, BooleanSupplier condition, Supplier<String> state) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("still waiting for " + what + " after " + deadline.toSeconds() + " s: " + state.get());
            }
            Thread.sleep(POLL_MS);
        }
    }

    public static void until(String what, Duration deadline, BooleanSupplier condition) throws InterruptedException {
        until(what, deadline, condition, () -> "the condition never held");
    }
}
