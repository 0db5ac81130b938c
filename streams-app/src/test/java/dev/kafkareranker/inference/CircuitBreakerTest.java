package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The breaker alone, its backoff on a clock the test moves. */
class CircuitBreakerTest {

    private final FakeClock clock = new FakeClock();
    private final CircuitBreaker breaker = new CircuitBreaker("m", 3, Duration.ofSeconds(5), clock::nanoTime);

    @Test
    void faultsInARowOpenItAndASuccessInBetweenStartsTheCountOver() {
        breaker.fault("one");
        breaker.fault("two");
        breaker.success();
        breaker.fault("three");
        breaker.fault("four");
        assertFalse(breaker.rejecting(), "two in a row since the success");
        assertTrue(breaker.fault("five"));
        assertTrue(breaker.rejecting());
        assertEquals(ModelHealth.State.UNAVAILABLE, breaker.health().state());
        assertEquals("five", breaker.health().reason());
    }

    @Test
    void theProbeIsDueAfterTheBackoffWhichDoublesAfterEachFailedProbeUpToItsCap() {
        for (int i = 0; i < 3; i++) {
            breaker.fault("f");
        }
        long backoff = Duration.ofSeconds(5).toNanos();
        for (int failedProbes = 0; failedProbes < 6; failedProbes++) {
            assertEquals(backoff, breaker.nanosUntilProbe());
            clock.advance(Duration.ofNanos(backoff - 1));
            assertFalse(breaker.probeDue());
            clock.advance(Duration.ofNanos(1));
            assertTrue(breaker.probeDue());
            breaker.fault("probe failed");
            backoff = Math.min(backoff * 2, Duration.ofSeconds(5).toNanos() * CircuitBreaker.MAX_BACKOFF_FACTOR);
        }
        breaker.success();
        assertFalse(breaker.rejecting());
        assertEquals(Long.MAX_VALUE, breaker.nanosUntilProbe(), "no probe pending once closed");
    }
}
