package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DeadlineKeyTest {

    @Test
    void theHandBuiltKeyIsTheFormattedOneSoStoresWrittenBeforeReadTheSame() {
        // Keys already in a deadlines store (and its changelog) were written with String.format("%019d|%s").
        for (long millis : new long[] {0, 7, 5_000, 1_764_000_000_000L, Long.MAX_VALUE, -1}) {
            assertEquals("W|" + String.format("%019d|%s", millis, "q-1"), GatherStore.deadlineKey("W|", millis, "q-1"), "millis " + millis);
        }
    }
}
