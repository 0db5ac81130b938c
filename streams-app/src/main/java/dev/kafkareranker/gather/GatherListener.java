package dev.kafkareranker.gather;

/** What the gathering step reports as it goes, for metrics. Called on stream threads: keep it cheap. */
public interface GatherListener {

    GatherListener NONE = new GatherListener() {
    };

    /** A query was scored and its result forwarded. */
    default void queryEmitted(String model, int pairs, long scoringMs, long gatherToEmitMs, boolean complete) {
    }

    /** Candidates went to the dead-letter topic for {@code reason}. */
    default void deadLettered(String reason, int candidates) {
    }

    /** The number of queries being gathered changed by {@code delta} (summed over all tasks). */
    default void pendingChanged(int delta) {
    }

    /** The number of queries handed to a model and not yet forwarded changed by {@code delta} (summed over all tasks). */
    default void inFlightChanged(int delta) {
    }

    /**
     * Something the pipeline depends on failed, not a record (the Schema Registry unavailable, a store):
     * a task is failed or an outcome's writing postponed. The app's input gate holds the input back for a
     * while, so that a persistent fault costs a retry now and then, not a loop.
     */
    default void transientFault(Throwable cause) {
    }
}
