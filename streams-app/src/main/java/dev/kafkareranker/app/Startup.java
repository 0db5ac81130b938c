package dev.kafkareranker.app;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the milestones of a start (and of every rebalance after it): Kafka Streams' state changes and the
 * end of each round of state restoration, each with the time since the JVM started. A restart's
 * recovery time is then read off the log, phase by phase (README, "Restarts and recovery time"); at the root logger's
 * WARN level Kafka's own lines saying the same are hidden.
 */
final class Startup implements KafkaStreams.StateListener, StateRestoreListener {

    private static final Logger LOG = LoggerFactory.getLogger(Startup.class);

    /** Listeners added by the app's users: Kafka Streams takes only one, this one. */
    final List<KafkaStreams.StateListener> listeners = new CopyOnWriteArrayList<>();

    /** Store partitions restoring now, and the totals of the round they belong to. */
    private int restoring;
    private int roundPartitions;
    private long roundRecords;
    private long roundStartNanos;
    private boolean roundSuspended;
    private String lastRound;

    /** "JVM up N ms", for the milestone lines. */
    static String jvmUp() {
        return "JVM up " + ManagementFactory.getRuntimeMXBean().getUptime() + " ms";
    }

    @Override
    public void onChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        LOG.info("Kafka Streams {} -> {} ({})", oldState, newState, jvmUp());
        for (KafkaStreams.StateListener listener : listeners) {
            listener.onChange(newState, oldState);
        }
    }

    @Override
    public synchronized void onRestoreStart(TopicPartition partition, String store, long startingOffset, long endingOffset) {
        if (restoring == 0) {
            roundPartitions = 0;
            roundRecords = 0;
            roundStartNanos = System.nanoTime();
            roundSuspended = false;
        }
        restoring++;
        roundPartitions++;
        LOG.debug("Restoring {} from {} (offsets {} to {})", store, partition, startingOffset, endingOffset);
    }

    @Override
    public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long numRestored) {
        // Only the totals at the end are logged.
    }

    @Override
    public synchronized void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
        ended(totalRestored);
    }

    @Override
    public synchronized void onRestoreSuspended(TopicPartition partition, String store, long totalRestored) {
        // The task was closed mid-restoration (revoked, or wiped as corrupted to restore again from scratch).
        roundSuspended = true;
        ended(totalRestored);
    }

    private void ended(long records) {
        roundRecords += records;
        restoring = Math.max(0, restoring - 1);
        if (restoring == 0) {
            lastRound = roundRecords + " records into " + roundPartitions + " store partitions in "
                    + (System.nanoTime() - roundStartNanos) / 1_000_000 + " ms"
                    + (roundSuspended ? ", some cut short (their tasks were closed: revoked, or wiped to restore again)" : "");
            LOG.info("State restored: {} ({})", lastRound, jvmUp());
        }
    }

    /** The last finished round of restoration, as logged; null before the first. */
    synchronized String lastRound() {
        return lastRound;
    }
}
