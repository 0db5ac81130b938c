package dev.kafkareranker.inference;

/**
 * Whether a model takes work now: what readiness and the gatherer read.
 *
 * @param state               see {@link State}
 * @param consecutiveFailures model faults in a row (failed batches the probe confirmed, timeouts)
 * @param reason              the last fault, for logs and the readiness body; empty when healthy
 */
public record ModelHealth(State state, int consecutiveFailures, String reason) {

    public enum State {
        /** Taking work (the circuit breaker is closed). */
        HEALTHY,
        /** The breaker is open: new work is refused with {@link ModelUnavailableException} until a probe batch succeeds. */
        UNAVAILABLE,
        /** The engine's worker died or the engine is closed: nothing will be scored until the model is reloaded or the app restarts. */
        DEAD
    }

    public static final ModelHealth HEALTHY = new ModelHealth(State.HEALTHY, 0, "");

    /** True when new work will be taken; false: hold input back, it would only fail. */
    public boolean accepting() {
        return state == State.HEALTHY;
    }
}
