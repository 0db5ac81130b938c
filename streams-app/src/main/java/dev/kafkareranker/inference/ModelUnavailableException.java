package dev.kafkareranker.inference;

/**
 * Transient: the model, not the input, is at fault (its circuit breaker is open, a batch timed out, a
 * whole batch failed and the probe failed too, or the engine is closed or its worker died). The same
 * input is expected to score once the model is healthy again, so a caller should fail or pause the
 * task and process the input again, never dead-letter it. {@link Scorer#accepting()} says when to resume.
 */
public class ModelUnavailableException extends InferenceException {

    public ModelUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public ModelUnavailableException(String message) {
        super(message);
    }
}
