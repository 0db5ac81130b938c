package dev.kafkareranker.gather;

import dev.kafkareranker.serde.SchemaRegistryException;

/** Tells a record's own fault from a failure of what the pipeline depends on, by the cause chain. */
public final class Failures {

    /** A cause chain can be made to loop; none this deep is real. */
    private static final int MAX_DEPTH = 32;

    private Failures() {
    }

    /** The bad-record cause of {@code failure}, or null when something other than the record failed. */
    public static BadRecordException badRecord(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth++ < MAX_DEPTH; t = t.getCause()) {
            if (t instanceof BadRecordException bad) {
                return bad;
            }
        }
        return null;
    }

    /**
     * Whether a Schema Registry failure anywhere in the cause chain says the registry could not answer
     * now (not reached, HTTP 429 or 5xx), so retrying can help; a 404 for an unknown id cannot.
     */
    public static boolean registryUnavailable(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth++ < MAX_DEPTH; t = t.getCause()) {
            if (t instanceof SchemaRegistryException e && transientStatus(e.httpStatus())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the model engine refused or timed out rather than failing on the query's rows: a
     * {@code ModelUnavailableException} (inference package: circuit breaker open, per-batch timeout,
     * worker gone) anywhere in the chain. Matched by name so that this package does not depend on the
     * engine's classes; retrying later helps, so the task fails instead of dead-lettering the query.
     */
    public static boolean engineUnavailable(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth++ < MAX_DEPTH; t = t.getCause()) {
            for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
                if (c.getSimpleName().equals("ModelUnavailableException")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** -1: not reached; 429: too many requests; 5xx: the registry or its store is failing. */
    static boolean transientStatus(int httpStatus) {
        return httpStatus == -1 || httpStatus == 429 || httpStatus >= 500;
    }
}
