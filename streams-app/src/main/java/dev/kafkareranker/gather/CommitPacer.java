package dev.kafkareranker.gather;

import java.time.Duration;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/**
 * Asks Kafka Streams to commit soon after a task forwarded something, at a bounded rate. Under
 * exactly-once nothing a task forwards is readable before its transaction commits, and Kafka Streams
 * commits only every {@code commit.interval.ms} (100 ms) unless asked: a candidate's trip through the
 * repartition topic and then its query's result would wait up to two of those in series (the bench's
 * added latency was ≈250 ms). Asking after every forward instead made one transaction (a marker per
 * partition and a round trip) per loop iteration, every few ms under load. So: ask at once when the last
 * request is at least {@link #MIN_INTERVAL} old, else remember, and a wall-clock punctuation at that
 * interval asks then. One request commits every task of the stream thread in one transaction. Only the
 * gatherer uses it: the intake asking too made a lagging intake task's candidates arrive behind others'
 * later ones (CandidateIntake).
 */
final class CommitPacer {

    /**
     * The least time between two commit requests of a task: at most 100 transactions a second per stream
     * thread, each costing the thread a few ms only when it had output; a result waits at most this long
     * (plus the loop iteration it was forwarded in) for its transaction.
     */
    static final Duration MIN_INTERVAL = Duration.ofMillis(10);

    private final ProcessorContext<?, ?> context;
    private long lastRequestMs = Long.MIN_VALUE / 2;
    private boolean pending;

    private CommitPacer(ProcessorContext<?, ?> context) {
        this.context = context;
    }

    /** A pacer for the task of {@code context}, with its punctuation scheduled (call from {@code init}). */
    static CommitPacer schedule(ProcessorContext<?, ?> context) {
        CommitPacer pacer = new CommitPacer(context);
        context.schedule(MIN_INTERVAL, PunctuationType.WALL_CLOCK_TIME, pacer::maybeRequest);
        return pacer;
    }

    /** The task forwarded output that should become readable soon. */
    void forwarded() {
        pending = true;
        maybeRequest(context.currentSystemTimeMs());
    }

    private void maybeRequest(long now) {
        if (pending && now - lastRequestMs >= MIN_INTERVAL.toMillis()) {
            lastRequestMs = now;
            pending = false;
            context.commit();
        }
    }
}
