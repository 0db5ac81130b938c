package dev.kafkareranker.gather;

import dev.kafkareranker.inference.ModelUnavailableException;
import dev.kafkareranker.serde.SchemaRegistryException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Tells a record's own fault from a failure of what the pipeline depends on, by the cause chain. */
public final class Failures {

    /** A cause chain can be made to loop; none this deep is real. */
    private static final int MAX_DEPTH = 32;

    private static final Logger LOG = LoggerFactory.getLogger(Failures.class);
    /** Before a failed task runs again: a failure that persists (a registry down for minutes) then costs a line a second, not a spin. */
    static final long RETRY_PAUSE_MS = 1_000;

    private Failures() {
    }

    /**
     * What a processor throws for a failure that is not its record's fault: a {@link TaskMigratedException},
     * which Kafka Streams answers on the same stream thread by closing all its tasks dirty (their
     * uncommitted store changes dropped), aborting the transaction (a new producer fences the old one),
     * rejoining the group and restoring the stores from their changelogs: the input is then processed again
     * from the last commit. (Kafka Streams then logs "the thread is being fenced"; the ERROR line before it
     * says why.) Not a TaskCorruptedException: with exactly_once_v2 Kafka Streams first commits the thread's
     * other tasks, and with them whatever the failed task had already sent in the shared transaction. Not a
     * dying thread either: its replacement waits out the group's session timeout (45 s by default).
     * A bad record's exception and Kafka Streams' own are passed on unchanged.
     */
    static RuntimeException failTask(TaskId task, RuntimeException failure) {
        if (failure instanceof BadRecordException || failure instanceof StreamsException) {
            return failure;
        }
        LOG.error("Task {} failed, not through a fault of its input record: its stream thread drops its uncommitted work,"
                + " aborts the transaction and processes the input again from the last commit in {} ms", task, RETRY_PAUSE_MS, failure);
        try {
            Thread.sleep(RETRY_PAUSE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new TaskMigratedException("Task " + task + " is processed again after a failure that was not its record's fault: "
                + failure, failure);
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
     * {@link ModelUnavailableException} (circuit breaker open, per-batch timeout, worker gone) anywhere in
     * the chain. Retrying later helps, so the task fails instead of dead-lettering the query.
     */
    public static boolean engineUnavailable(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth++ < MAX_DEPTH; t = t.getCause()) {
            if (t instanceof ModelUnavailableException) {
                return true;
            }
        }
        return false;
    }

    /** -1: not reached; 429: too many requests; 5xx: the registry or its store is failing. */
    static boolean transientStatus(int httpStatus) {
        return httpStatus == -1 || httpStatus == 429 || httpStatus >= 500;
    }
}
