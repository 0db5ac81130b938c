package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

class StartupTest {

    private static final TopicPartition A = new TopicPartition("app-rerank-queries-changelog", 0);
    private static final TopicPartition B = new TopicPartition("app-rerank-candidates-changelog", 0);

    @Test
    void aRoundOfRestorationIsSummedUpOnlyWhenItsLastStorePartitionEnds() {
        Startup startup = new Startup();
        startup.onRestoreStart(A, "rerank-queries", 0, 10);
        startup.onRestoreStart(B, "rerank-candidates", 0, 30);
        startup.onRestoreEnd(A, "rerank-queries", 10);
        assertNull(startup.lastRound(), "one store partition still restoring");
        startup.onRestoreEnd(B, "rerank-candidates", 30);
        assertTrue(startup.lastRound().startsWith("40 records into 2 store partitions in "), startup.lastRound());
    }

    @Test
    void aRoundCutShortBySuspensionSaysSoAndTheNextRoundCountsAfresh() {
        Startup startup = new Startup();
        startup.onRestoreStart(A, "rerank-queries", 0, 10);
        startup.onRestoreSuspended(A, "rerank-queries", 4);
        assertTrue(startup.lastRound().startsWith("4 records into 1 store partitions in "), startup.lastRound());
        assertTrue(startup.lastRound().contains("cut short"), startup.lastRound());
        startup.onRestoreStart(B, "rerank-candidates", 0, 7);
        startup.onRestoreEnd(B, "rerank-candidates", 7);
        assertTrue(startup.lastRound().startsWith("7 records into 1 store partitions in "), startup.lastRound());
        assertTrue(!startup.lastRound().contains("cut short"), startup.lastRound());
    }

    @Test
    void stateChangesReachTheListenersAddedToTheApp() {
        Startup startup = new Startup();
        List<String> seen = new ArrayList<>();
        startup.listeners.add((now, before) -> seen.add(before + "->" + now));
        startup.onChange(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
        assertEquals(List.of("REBALANCING->RUNNING"), seen);
    }
}
