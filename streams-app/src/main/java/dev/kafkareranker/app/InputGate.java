package dev.kafkareranker.app;

import dev.kafkareranker.gather.Failures;
import dev.kafkareranker.gather.ScoringBacklog;
import dev.kafkareranker.serving.ModelRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pauses the app's input while the pipeline cannot take more work, and resumes it once it can, so that
 * no stream thread ever blocks and no fault turns into a loop of task failures. Input is held back while:
 * <ul>
 *   <li>a model refuses work (its circuit breaker is open): queries it could not score wait in the store
 *       and are handed over again once it accepts;</li>
 *   <li>a model's queue has no room ({@code Scorer#hasRoom}), or a gathering task has a whole
 *       gather.max.in.flight.queries of queries being scored and as many again waiting ({@link ScoringBacklog});</li>
 *   <li>the Schema Registry was needed and could not answer, until its probe answers again;</li>
 *   <li>for a backoff after a task failed for a fault that was not its record's (doubling from 1 s to 30 s
 *       while failures follow one another), instead of a sleep on the stream thread.</li>
 * </ul>
 * Every reason ends without the stream threads, which is what keeps a pause from lasting for ever: a
 * paused Kafka Streams (4.3) neither processes nor punctuates (TaskExecutionMetadata.canPunctuateTask), so
 * results whose scores are in wait for the resume; what ends a pause is the engine finishing work, the
 * registry answering, or time. A resume needs {@value #CLEAR_LOOKS} looks in a row without a reason, so the
 * input does not flap at every look. Paused and resumed as a whole: all models' queries share the stream
 * threads' tasks.
 */
final class InputGate {

    /** What the gate pauses: Kafka Streams' input in the app, a fake in tests. */
    interface Input {
        boolean isPaused();

        void pause();

        void resume();

        static Input of(KafkaStreams streams) {
            return new Input() {
                @Override
                public boolean isPaused() {
                    return streams.isPaused();
                }

                @Override
                public void pause() {
                    streams.pause();
                }

                @Override
                public void resume() {
                    streams.resume();
                }
            };
        }
    }

    /** What the gate asks of the models: whether each takes work and has room, and their health for the log line. */
    interface Models {
        boolean accepting();

        boolean hasRoom();

        String health();

        static Models of(ModelRegistry registry) {
            return new Models() {
                @Override
                public boolean accepting() {
                    return registry.accepting();
                }

                @Override
                public boolean hasRoom() {
                    return registry.hasRoom();
                }

                @Override
                public String health() {
                    return registry.health().toString();
                }
            };
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(InputGate.class);
    /** How often the gate looks: a model that stopped costs at most this long of input before the pipeline holds it back. */
    static final Duration INTERVAL = Duration.ofMillis(200);
    static final int CLEAR_LOOKS = 2;
    static final long FAULT_BACKOFF_MS = 1_000;
    static final long FAULT_BACKOFF_MAX_MS = 30_000;

    private final Input streams;
    private final Models models;
    /** A gathering task whose model is behind ({@link ScoringBacklog#saturated}), or null. */
    private final Supplier<String> backlog;
    /** Empty while the Schema Registry answers its probe, else why not. */
    private final Supplier<String> registry;
    private final LongSupplier clock;
    /** When the input was last resumed (wall clock ms), for the gatherers' max wait and the intakes' idleness. */
    private final AtomicLong resumedAt;
    private volatile boolean registryFault;
    private volatile long heldUntil = Long.MIN_VALUE;
    private long faultBackoff = FAULT_BACKOFF_MS;
    private long lastFault = Long.MIN_VALUE / 2;
    private int clearLooks;
    private String pausedFor = "";

    InputGate(Input streams, Models models, Supplier<String> backlog, Supplier<String> registry, LongSupplier clock, AtomicLong resumedAt) {
        this.streams = streams;
        this.models = models;
        this.backlog = backlog;
        this.registry = registry;
        this.clock = clock;
        this.resumedAt = resumedAt;
    }

    /**
     * A task failed, or an outcome could not be written, for a fault that is not a record's (any thread):
     * the input is paused at once, until the registry answers again if it was the registry, else for a
     * backoff.
     */
    synchronized void fault(Throwable cause) {
        long now = clock.getAsLong();
        if (Failures.registryUnavailable(cause)) {
            registryFault = true;
        }
        faultBackoff = now - lastFault > 2 * FAULT_BACKOFF_MAX_MS ? FAULT_BACKOFF_MS : Math.min(FAULT_BACKOFF_MAX_MS, faultBackoff * 2);
        lastFault = now;
        heldUntil = now + faultBackoff;
        look();
    }

    /** Looks at every reason to hold the input and pauses or resumes it. */
    synchronized void look() {
        try {
            List<String> reasons = reasons();
            if (!reasons.isEmpty()) {
                clearLooks = 0;
                String why = String.join("; ", reasons);
                if (!streams.isPaused()) {
                    LOG.warn("Pausing input processing: {}", why);
                    streams.pause();
                } else if (!why.equals(pausedFor)) {
                    LOG.info("Input stays paused: {}", why);
                }
                pausedFor = why;
            } else if (streams.isPaused() && ++clearLooks >= CLEAR_LOOKS) {
                LOG.info("Resuming input processing (it was paused: {})", pausedFor);
                pausedFor = "";
                resumedAt.set(clock.getAsLong());
                streams.resume();
            }
        } catch (RuntimeException e) {
            // The gate must keep running: a failed look is tried again at the next interval.
            LOG.warn("Input gate: could not check or change the pause state", e);
        }
    }

    private List<String> reasons() {
        List<String> reasons = new ArrayList<>();
        if (!models.accepting()) {
            reasons.add("a model refuses work " + models.health());
        }
        if (!models.hasRoom()) {
            reasons.add("a model's queue is full");
        }
        String saturated = backlog.get();
        if (saturated != null) {
            reasons.add(saturated);
        }
        if (registryFault) {
            String down = registry.get();
            if (down.isEmpty() && clock.getAsLong() >= heldUntil) {
                registryFault = false;
            } else {
                reasons.add(down.isEmpty() ? "the Schema Registry failed a call; looking again shortly" : down);
            }
        }
        long now = clock.getAsLong();
        if (now < heldUntil && !registryFault) {
            reasons.add("a task failed for a fault that is not its input's; retrying in " + (heldUntil - now) + " ms");
        }
        return reasons;
    }
}
