package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The input gate pauses for each reason and resumes only when that reason ends by itself: what ends a
 * pause never needs the stream threads, which a paused Kafka Streams does not run (no processing, no
 * punctuation). A fake input and a clock the test moves: each look is one call.
 */
class InputGateTest {

    private final AtomicBoolean paused = new AtomicBoolean();
    private final AtomicInteger pauses = new AtomicInteger();
    private final AtomicInteger resumes = new AtomicInteger();
    private final AtomicBoolean accepting = new AtomicBoolean(true);
    private final AtomicBoolean room = new AtomicBoolean(true);
    private final AtomicReference<String> saturated = new AtomicReference<>();
    private final AtomicReference<String> registryDown = new AtomicReference<>("");
    private final AtomicLong clock = new AtomicLong(10_000);
    private final AtomicLong resumedAt = new AtomicLong(Long.MIN_VALUE);

    private final InputGate gate = new InputGate(new InputGate.Input() {
        @Override
        public boolean isPaused() {
            return paused.get();
        }

        @Override
        public void pause() {
            paused.set(true);
            pauses.incrementAndGet();
        }

        @Override
        public void resume() {
            paused.set(false);
            resumes.incrementAndGet();
        }
    }, new InputGate.Models() {
        @Override
        public boolean accepting() {
            return accepting.get();
        }

        @Override
        public boolean hasRoom() {
            return room.get();
        }

        @Override
        public String health() {
            return "{fake}";
        }
    }, saturated::get, registryDown::get, clock::get, resumedAt);

    private void looks(int n) {
        for (int i = 0; i < n; i++) {
            clock.addAndGet(InputGate.INTERVAL.toMillis());
            gate.look();
        }
    }

    @Test
    void aFullQueuePausesTheInputAndTwoClearLooksInARowResumeIt() {
        looks(3);
        assertEquals(0, pauses.get(), "nothing to hold back");
        room.set(false);
        looks(1);
        assertTrue(paused.get());
        room.set(true);
        looks(1);
        assertTrue(paused.get(), "one clear look is not enough: no flapping at every look");
        room.set(false);
        looks(1);
        room.set(true);
        looks(1);
        assertTrue(paused.get(), "the count starts again after a look with a reason");
        looks(1);
        assertFalse(paused.get());
        assertEquals(1, pauses.get());
        assertEquals(1, resumes.get());
        assertEquals(clock.get(), resumedAt.get(), "the gatherers and intakes are told when the input came back");
    }

    @Test
    void aModelRefusingWorkOrASaturatedTaskHoldsTheInputUntilItEnds() {
        accepting.set(false);
        looks(1);
        assertTrue(paused.get());
        accepting.set(true);
        saturated.set("task 0_1 has 16 queries being scored and 16 waiting");
        looks(5);
        assertTrue(paused.get(), "the backlog keeps it paused: its scorings end on the engine's threads, not the stream threads");
        saturated.set(null);
        looks(2);
        assertFalse(paused.get());
    }

    @Test
    void aRegistryFaultHoldsTheInputWhileTheProbeSaysTheRegistryIsDown() {
        registryDown.set("schema registry unavailable (http://registry: HTTP 503)");
        gate.fault(new RuntimeException(new dev.kafkareranker.serde.SchemaRegistryException("injected", 503, 50301)));
        assertTrue(paused.get(), "paused at once, from the failing thread");
        looks(200);
        assertTrue(paused.get(), "for as long as the registry is down, well past the failure backoff");
        registryDown.set("");
        looks(2);
        assertFalse(paused.get(), "resumed once the probe sees it answer");
    }

    @Test
    void otherFaultsHoldTheInputForABackoffThatDoublesWhileTheyRepeat() {
        gate.fault(new IllegalStateException("injected: a store failed", new ConnectException()));
        assertTrue(paused.get());
        long first = heldFor();
        gate.fault(new IllegalStateException("injected again"));
        long second = heldFor();
        assertEquals(InputGate.FAULT_BACKOFF_MS, first, 250);
        assertEquals(2 * InputGate.FAULT_BACKOFF_MS, second, 250);
    }

    /** Looks until the input resumes; returns how long it was held. */
    private long heldFor() {
        long start = clock.get();
        for (int i = 0; i < 1_000 && paused.get(); i++) {
            looks(1);
        }
        assertFalse(paused.get());
        return clock.get() - start - (InputGate.CLEAR_LOOKS - 1) * InputGate.INTERVAL.toMillis();
    }
}
