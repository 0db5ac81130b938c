package dev.kafkareranker.inference;

import dev.kafkareranker.inference.ModelCaller.Attempt;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles each batch that ran and, when it failed, finds out whose fault it was:
 * <ul>
 *   <li>The batch's size (it ran out of memory, {@link OutOfMemory#is}): the sizer is told, the batch is
 *       retried in halves, and a single row that still does not fit fails its request transiently
 *       ({@link ModelUnavailableException}): the device or its load is at fault, not the row, and it is
 *       never counted against the circuit breaker.</li>
 *   <li>The rows: a tiny probe batch succeeds, so the batch is split in halves and retried, and one bad row
 *       fails only its own request ({@link InferenceException}: permanent).</li>
 *   <li>The model: the probe fails too, the call ran past the batch timeout, or every output was non-finite
 *       and so was the probe's. Every request of the batch fails transiently and the {@link CircuitBreaker}
 *       counts a fault.</li>
 * </ul>
 */
final class FaultTriage {

    private static final Logger LOG = LoggerFactory.getLogger(FaultTriage.class);

    private final String name;
    private final ModelCaller caller;
    private final Completions completions;
    private final CircuitBreaker breaker;
    private final BatchSizer sizer;
    private final List<Encoded> probe;

    /**
     * @param probe rows of a tiny known-good request, run to tell a broken model from bad rows and to test an
     *              open breaker; empty = no probing (whole-batch failures are treated as bad rows)
     */
    FaultTriage(ModelCaller caller, Completions completions, CircuitBreaker breaker, BatchSizer sizer, List<Encoded> probe) {
        this.name = caller.name();
        this.caller = caller;
        this.completions = completions;
        this.breaker = breaker;
        this.sizer = sizer;
        this.probe = List.copyOf(probe);
    }

    /** A planned batch's outcome: its rows are answered, or the fault is found and the right requests fail. */
    void settle(List<QueuedRow> batch, Attempt attempt) throws Throwable {
        if (attempt.succeeded()) {
            StageTimes.ran(batch, attempt.startNanos(), attempt.endNanos());
            int answered = completions.deliver(batch, attempt.outputs());
            if (answered > 0 || probeHealthy()) {
                breaker.success();
                sizer.ran(batch.size(), width(batch));
                completions.failNonFinite(batch, attempt.outputs());
            } else {
                modelFault(batch, new ModelUnavailableException("Every row of a batch of " + batch.size() + " from " + name
                        + " gave a non-finite output and so did the probe: the model is broken"));
            }
            return;
        }
        if (attempt.timedOut()) {
            modelFault(batch, (ModelUnavailableException) attempt.failure());
            return;
        }
        Throwable e = attempt.failure();
        if (OutOfMemory.is(e)) {
            tooLarge(batch, e);
            return;
        }
        if (!probeHealthy()) {
            modelFault(batch, new ModelUnavailableException("A batch of " + batch.size() + " rows of " + name
                    + " failed and so did the probe batch, so the model is at fault, not the rows: " + e, e));
            return;
        }
        breaker.success();
        split(batch, e);
    }

    /** The model is known to work: a failure here is the rows' own (or their number's), isolated by halving. */
    private void runSplitting(List<QueuedRow> batch) throws Throwable {
        if (breaker.rejecting()) {
            completions.fail(batch, breaker.refusal());
            return;
        }
        Attempt attempt = caller.attempt(rowsOf(batch));
        if (attempt.succeeded()) {
            StageTimes.ran(batch, attempt.startNanos(), attempt.endNanos());
            completions.deliver(batch, attempt.outputs());
            sizer.ran(batch.size(), width(batch));
            completions.failNonFinite(batch, attempt.outputs());
        } else if (attempt.timedOut()) {
            modelFault(batch, (ModelUnavailableException) attempt.failure());
        } else if (OutOfMemory.is(attempt.failure())) {
            tooLarge(batch, attempt.failure());
        } else {
            split(batch, attempt.failure());
        }
    }

    private void split(List<QueuedRow> batch, Throwable e) throws Throwable {
        if (batch.size() == 1) {
            LOG.warn("A row of {} failed alone while the model scores others; its request fails: {}", name, e.toString());
            completions.finish(batch.get(0).request().future, null, e instanceof InferenceException ? e
                    : new InferenceException("Scoring a row with " + name + " failed: " + e, e));
            return;
        }
        LOG.warn("A batch of {} rows of {} failed; retrying it in halves: {}", batch.size(), name, e.toString());
        halves(batch);
    }

    /** Out of memory: the sizer learns, the halves may fit; one row that does not is the device's fault, not the row's. */
    private void tooLarge(List<QueuedRow> batch, Throwable e) throws Throwable {
        int width = width(batch);
        sizer.allocationFailed(batch.size(), width);
        if (batch.size() == 1) {
            LOG.warn("A single row of {} tokens of {} ran out of memory; its request fails transiently and will be tried again: {}",
                    width, name, e.toString());
            completions.finish(batch.get(0).request().future, null, new ModelUnavailableException("A single row of " + width
                    + " tokens of " + name + " did not fit in memory (" + e + "): the device or the JVM's direct memory is too "
                    + "full now; the query is scored again later. If it keeps failing, give the model more memory or lower its "
                    + "max length (reranker.json)", e));
            return;
        }
        LOG.warn("A batch of {} rows x {} tokens of {} ran out of memory; retrying it in halves: {}", batch.size(), width, name,
                e.toString());
        halves(batch);
    }

    private void halves(List<QueuedRow> batch) throws Throwable {
        int half = batch.size() / 2;
        runSplitting(batch.subList(0, half));
        runSplitting(batch.subList(half, batch.size()));
    }

    private void modelFault(List<QueuedRow> batch, ModelUnavailableException failure) {
        breaker.fault(failure.getMessage());
        completions.fail(batch, failure);
    }

    /** After the backoff of an open breaker: one probe closes it or keeps it open. */
    void probeOpenBreaker() throws Throwable {
        if (probe.isEmpty()) {
            // Nothing to probe with: let real work be the probe.
            breaker.success();
            return;
        }
        Attempt attempt = caller.attempt(probe);
        if (attempt.succeeded() && Completions.allFinite(attempt.outputs())) {
            breaker.success();
        } else {
            breaker.fault(attempt.failure() != null ? "probe batch failed: " + attempt.failure() : "probe batch gave non-finite outputs");
        }
    }

    private boolean probeHealthy() throws Throwable {
        if (probe.isEmpty()) {
            return true;
        }
        Attempt attempt = caller.attempt(probe);
        return attempt.succeeded() && Completions.allFinite(attempt.outputs());
    }

    static List<Encoded> rowsOf(List<QueuedRow> batch) {
        return batch.stream().map(QueuedRow::encoded).toList();
    }

    /** The padded width of a batch: its longest row. */
    static int width(List<QueuedRow> batch) {
        int width = 0;
        for (QueuedRow row : batch) {
            width = Math.max(width, row.length());
        }
        return width;
    }
}
