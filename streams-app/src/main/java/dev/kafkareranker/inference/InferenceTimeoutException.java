package dev.kafkareranker.inference;

/**
 * A model call or a request took longer than its timeout (inference.batch.timeout.ms,
 * inference.request.timeout.ms). Transient like every {@link ModelUnavailableException}: a hung device
 * is the model's fault, and the engine abandons the stuck call so later batches can run.
 */
public final class InferenceTimeoutException extends ModelUnavailableException {

    public InferenceTimeoutException(String message) {
        super(message);
    }
}
