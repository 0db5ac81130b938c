package dev.kafkareranker.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A refusal or failure of the Schema Registry, with the registry's own error code
 * (for example 40401 subject not found, 40403 schema not found, 42201 invalid schema).
 */
public final class SchemaRegistryException extends SerializationException {

    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(String message, int httpStatus, int errorCode) {
        super(message);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

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
}
