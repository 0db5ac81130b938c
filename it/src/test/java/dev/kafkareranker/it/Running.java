package dev.kafkareranker.it;

import dev.kafkareranker.app.RerankerApp;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Every it test's wait for Kafka Streams to run: a test that went on without it would send into an app that
 * may never consume, and fail later for a reason that names something else. RUNNING, or an assertion that
 * says the app did not get there: at once when it went to a state it cannot leave for RUNNING (an error, a
 * shutdown), else once the deadline, which only bounds a hang, has passed.
 */
final class Running {

    /** Generous: a first start on a loaded 2-core machine loads a model and joins a group in tens of seconds. */
    static final Duration PATIENCE = Duration.ofMinutes(3);

    private static final Set<KafkaStreams.State> NEVER_RUNNING = EnumSet.of(KafkaStreams.State.ERROR, KafkaStreams.State.PENDING_ERROR,
            KafkaStreams.State.PENDING_SHUTDOWN, KafkaStreams.State.NOT_RUNNING);

    private Running() {
    }

    static void await(RerankerApp app) throws InterruptedException {
        await(app.streams(), () -> app.fatalError().map(cause -> "; the app stopped: " + cause).orElse(""));
    }

    static void await(KafkaStreams streams) throws InterruptedException {
        await(streams, () -> "");
    }

    private static void await(KafkaStreams streams, java.util.function.Supplier<String> why) throws InterruptedException {
        Await.until("Kafka Streams to go RUNNING", PATIENCE, () -> {
            KafkaStreams.State state = streams.state();
            if (NEVER_RUNNING.contains(state)) {
                throw new AssertionError("Kafka Streams went " + state + " instead of RUNNING" + why.get());
            }
            return state == KafkaStreams.State.RUNNING;
        }, () -> "it is " + streams.state() + why.get());
    }
}
