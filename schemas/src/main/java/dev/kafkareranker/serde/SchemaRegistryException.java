package dev.kafkareranker.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A refusal or failure of the Schema Registry, with the registry's own error code
 * (for example 40401 subject not found, 40403 schema not found, 42201 invalid schema).
 *
 * <p>{@link #isTransient()} tells the two kinds apart: a registry that could not be reached, was
 * overloaded (429) or failed (5xx) may answer on a later try, so the record that needed it is not at
 * fault and must not become a dead letter; anything else (an unknown id or subject, an invalid schema,
 * refused credentials) will fail the same way every time. The client has already retried a transient
 * failure with backoff ({@code max.retries}, {@code retries.wait.ms}, {@code retries.max.wait.ms}) by the
 * time this is thrown.
 */
public final class SchemaRegistryException extends SerializationException {

    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(String message, int httpStatus, int errorCode) {
        super(message);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** A failure with its status and code that also keeps its cause (an exhausted retry of an unreachable registry). */
    public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** The registry could not be reached (or the call was interrupted): {@link #httpStatus()} is -1. */
    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
        this.httpStatus = -1;
        this.errorCode = -1;
    }

    /** The HTTP status, or -1 when the registry could not be reached. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's {@code error_code}, or -1 when it sent none. */
    public int errorCode() {
        return errorCode;
    }

    /**
     * Whether a later try may succeed: true exactly when the registry was unreachable ({@code httpStatus}
     * -1), answered 429 or answered 5xx. A caller should then fail (and retry) the work rather than
     * dead-letter the record; false means the answer is final (404 40401/40403, 401, 422, ...).
     */
    public boolean isTransient() {
        return isTransientStatus(httpStatus);
    }

    /** The rule behind {@link #isTransient()}, for a bare HTTP status (-1 = unreachable). */
    public static boolean isTransientStatus(int httpStatus) {
        return httpStatus == -1 || httpStatus == 429 || httpStatus >= 500;
    }

    /**
     * Whether {@code error} or any exception in its cause chain is a transient registry failure. The
     * deserializer reports one as the cause of a {@link SerializationException} that names the topic and
     * schema id, so callers that only see the outer exception should ask this.
     */
    public static boolean isTransientFailure(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException registry && registry.isTransient()) {
                return true;
            }
        }
        return false;
    }
}
