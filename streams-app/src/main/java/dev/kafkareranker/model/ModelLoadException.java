package dev.kafkareranker.model;

/** A model directory that cannot be served; the message names the file or key to fix. */
public final class ModelLoadException extends RuntimeException {

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
