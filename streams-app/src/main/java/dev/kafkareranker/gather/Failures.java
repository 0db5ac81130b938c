package dev.kafkareranker.gather;

import dev.kafkareranker.inference.ModelUnavailableException;
import dev.kafkareranker.serde.SchemaRegistryException;
import java.util.function.Predicate;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.TaskId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a record's own fault from a failure of what the pipeline depends on, by the cause chain, and
 * fails a task for what remains of the second kind.
 *
 * <p>How the pipeline answers each fault that is not a record's own, so that none holds a stream thread
 * and a slow or failing model cannot make the group rebalance:
 * <ul>
 *   <li>The model refuses or times out ({@link ModelUnavailableException}): the query keeps its
 *       being-scored mark in the store and is handed over again once its model takes work (ScoringQueue);
 *       meanwhile the app's input is paused (RerankerApp's input gate). No task fails.</li>
 *   <li>A result or dead letter cannot be serialized (the Schema Registry unavailable): the query stays
 *       marked, its scores are kept, and writing it is tried again at a later punctuation, with backoff;
 *       the listener is told, so the input gate holds the input while the registry is down. No task fails.</li>
 *   <li>What remains fails the task ({@link #failTask}): a candidate that cannot be decoded because the
 *       registry cannot answer now (its schema is new to this instance, or the cache is empty after a
 *       restart), a state store that fails, a bug. Rare, and each is followed by a pause of the input
 *       (the listener is told) instead of a sleep on the stream thread.</li>
 * </ul>
 *
 * <p>How a task is failed, read from Kafka Streams 4.3: a processor that throws a
 * {@link TaskMigratedException} has it passed on unhandled ({@code ProcessorNode} rethrows
 * FailedProcessingException, TaskCorruptedException and TaskMigratedException without asking the
 * processing handler); {@code StreamThread} then closes all its tasks dirty (uncommitted store changes
 * dropped), aborts the transaction and rejoins the group with the same consumer, and so the same
 * {@code group.instance.id}: the input is processed again from the last commit. The alternatives are
 * worse here: a {@code TaskCorruptedException} first commits the thread's other tasks, and under
 * exactly_once_v2 their transaction is shared, so whatever the failed task had sent in it would commit
 * while its input is processed again; letting the processing handler answer FAIL kills the thread, and
 * its replacement joins under a new thread index, so a static member is left behind until its session
 * times out. Kafka Streams then logs "the thread is being fenced"; the ERROR line before it says why.
 */
public final class Failures {

    /** A cause chain can be made to loop; none this deep is real. */
    private static final int MAX_DEPTH = 32;

    private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

    private Failures() {
    }

    /**
     * What a processor throws for a failure that is not its record's fault (see the class doc): the
     * listener is told first, so the input gate can hold the input back before the task runs again. A bad
     * record's exception and Kafka Streams' own are passed on unchanged.
     */
    static RuntimeException failTask(TaskId task, RuntimeException failure, GatherListener listener) {
        if (failure instanceof BadRecordException || failure instanceof StreamsException) {
            return failure;
        }
        LOG.error("Task {} failed, not through a fault of its input record: its stream thread drops its uncommitted work,"
                + " aborts the transaction and processes the input again from the last commit, once the input gate lets it", task, failure);
        listener.transientFault(failure);
        return new TaskMigratedException("Task " + task + " is processed again after a failure that was not its record's fault: "
                + failure, failure);
    }

    /** The first throwable in {@code failure}'s cause chain that {@code test} accepts, or null. */
    static Throwable find(Throwable failure, Predicate<Throwable> test) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth++ < MAX_DEPTH; t = t.getCause()) {
            if (test.test(t)) {
                return t;
            }
        }
        return null;
    }

    /** The bad-record cause of {@code failure}, or null when something other than the record failed. */
    public static BadRecordException badRecord(Throwable failure) {
        return (BadRecordException) find(failure, t -> t instanceof BadRecordException);
    }

    /**
     * Whether a Schema Registry failure anywhere in the cause chain says the registry could not answer
     * now (not reached, HTTP 429 or 5xx), so retrying can help; a 404 for an unknown id cannot.
     */
    public static boolean registryUnavailable(Throwable failure) {
        return find(failure, t -> t instanceof SchemaRegistryException e && transientStatus(e.httpStatus())) != null;
    }

    /**
     * Whether the model engine refused or timed out rather than failing on the query's rows: a
     * {@link ModelUnavailableException} (circuit breaker open, per-batch or request timeout, worker gone)
     * anywhere in the chain. Retrying later helps, so the query is scored again instead of dead-lettered.
     */
    public static boolean engineUnavailable(Throwable failure) {
        return find(failure, t -> t instanceof ModelUnavailableException) != null;
    }

    /** -1: not reached; 429: too many requests; 5xx: the registry or its store is failing. */
    static boolean transientStatus(int httpStatus) {
        return httpStatus == -1 || httpStatus == 429 || httpStatus >= 500;
    }
}
