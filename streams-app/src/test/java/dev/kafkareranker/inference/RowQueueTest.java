package dev.kafkareranker.inference;

import static dev.kafkareranker.inference.DynamicBatcherTest.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The queue alone, on a clock the test moves: admission, the soft bound, when a pool is due and what it holds. */
class RowQueueTest {

    private final FakeClock clock = new FakeClock();

    private RowQueue queue(int maxRows, int maxTokens, int bound) {
        return new RowQueue(maxRows, maxTokens, bound, Duration.ofMillis(100), clock);
    }

    private static List<Encoded> rows(int count, int length) {
        List<Encoded> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(row(i, length));
        }
        return out;
    }

    @Test
    void admittedRowsCountAgainstTheBoundFromAdmissionUntilTheyAreTakenIntoAPool() {
        RowQueue queue = queue(4, 1000, 6);
        queue.admit(5);
        assertTrue(queue.hasRoom(), "5 of 6, still tokenizing");
        assertTrue(queue.offer(new PendingRequest(5), rows(5, 3), 5));
        assertEquals(5, queue.held());
        queue.admit(1);
        assertFalse(queue.hasRoom(), "6 of 6");
        queue.withdraw(1);
        assertTrue(queue.hasRoom(), "a withdrawn request no longer counts");
        assertEquals(0, queue.nanosUntilPool(), "a full batch (4 rows) is due at once");
        assertEquals(5, queue.awaitPool(() -> Long.MAX_VALUE).size(), "all five fit one pool");
        assertEquals(0, queue.held(), "the pool's rows left the count");
    }

    @Test
    void theBoundIsSoftRowsBeyondItAreQueuedAndABiEncodersExtraRowCounts() {
        RowQueue queue = queue(64, 100_000, 2);
        queue.admit(3);
        assertFalse(queue.hasRoom());
        assertTrue(queue.offer(new PendingRequest(4), rows(4, 3), 3), "taken anyway: no caller fails for a full queue");
        assertEquals(4, queue.held(), "the query's own row of a bi-encoder counts once its rows are made");
    }

    @Test
    void aPoolIsDueOnceTheOldestRowHasWaitedItsDelayOrAFullBatchIsQueued() {
        RowQueue queue = queue(4, 30, 100);
        assertEquals(Long.MAX_VALUE, queue.nanosUntilPool(), "nothing queued");
        queue.admit(1);
        queue.offer(new PendingRequest(1), rows(1, 3), 1);
        assertEquals(Duration.ofMillis(100).toNanos(), queue.nanosUntilPool());
        clock.advance(Duration.ofMillis(60));
        queue.admit(1);
        queue.offer(new PendingRequest(1), rows(1, 3), 1);
        assertEquals(Duration.ofMillis(40).toNanos(), queue.nanosUntilPool(), "measured from the oldest row");
        clock.advance(Duration.ofMillis(40));
        assertEquals(0, queue.nanosUntilPool());

        RowQueue tokens = queue(4, 30, 100);
        tokens.admit(3);
        tokens.offer(new PendingRequest(3), rows(3, 10), 3);
        assertEquals(0, tokens.nanosUntilPool(), "3 rows x 10 tokens fill the 30-token budget: no waiting for company");
    }

    @Test
    void aPoolTakesRowsInArrivalOrderUpToPoolBatchesFullBatches() {
        RowQueue queue = queue(2, 1000, 100);
        List<PendingRequest> requests = new ArrayList<>();
        for (int r = 0; r < 12; r++) {
            PendingRequest request = new PendingRequest(1);
            requests.add(request);
            queue.admit(1);
            queue.offer(request, List.of(row(r, 40 - r)), 1);
        }
        List<QueuedRow> pool = queue.awaitPool(() -> Long.MAX_VALUE);
        assertEquals(2 * DynamicBatcher.POOL_BATCHES, pool.size());
        for (int i = 0; i < pool.size(); i++) {
            assertEquals(requests.get(i), pool.get(i).request(), "arrival order, whatever the lengths");
        }
        assertEquals(12 - pool.size(), queue.held());
    }

    @Test
    void withNothingQueuedTheLoopGetsAnEmptyPoolWhenItsProbeIsDue() {
        assertEquals(List.of(), queue(4, 1000, 10).awaitPool(() -> 0));
    }

    @Test
    void closingReturnsWhatIsQueuedUncountedAndRefusesMore() {
        RowQueue queue = queue(4, 1000, 10);
        queue.admit(2);
        queue.offer(new PendingRequest(2), rows(2, 3), 2);
        assertEquals(2, queue.close().size());
        assertEquals(0, queue.held());
        assertFalse(queue.isOpen());
        queue.admit(1);
        assertFalse(queue.offer(new PendingRequest(1), rows(1, 3), 1), "refused once closed: the caller fails and withdraws it");
        assertNull(queue.awaitPool(() -> 0), "the loop ends");
    }
}
