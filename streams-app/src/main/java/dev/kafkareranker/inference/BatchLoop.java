package dev.kafkareranker.inference;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs one pool: the sizer cuts it into batches (sorted by length, so each pads little), and each batch is
 * padded into its input tensors while the one before it runs, so the device never waits for the host.
 * Rows whose request has ended (cancelled by a revoked task, timed out) are dropped before they run.
 */
final class BatchLoop {

    private final RowModel model;
    private final BatchSizer sizer;
    private final ModelCaller caller;
    private final FaultTriage triage;
    private final Completions completions;
    private final CircuitBreaker breaker;
    private final EngineStats stats;
    private final EngineClock clock;

    BatchLoop(RowModel model, BatchSizer sizer, ModelCaller caller, FaultTriage triage, Completions completions,
              CircuitBreaker breaker, EngineStats stats, EngineClock clock) {
        this.model = model;
        this.sizer = sizer;
        this.caller = caller;
        this.triage = triage;
        this.completions = completions;
        this.breaker = breaker;
        this.stats = stats;
        this.clock = clock;
    }

    /** A batch of rows with its input, prepared while the previous batch ran. */
    private record Planned(List<QueuedRow> rows, RowModel.Batch input) {}

    void runPool(List<QueuedRow> pool) throws Throwable {
        if (pool.isEmpty()) {
            return;
        }
        int[] lengths = new int[pool.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = pool.get(i).length();
        }
        List<int[]> plan = sizer.plan(lengths);
        Planned next = prepare(pool, plan.get(0));
        try {
            for (int b = 0; b < plan.size(); b++) {
                Planned current = next;
                next = null;
                if (current == null) {
                    next = b + 1 < plan.size() ? prepare(pool, plan.get(b + 1)) : null;
                    continue;
                }
                if (breaker.rejecting()) {
                    current.input().close();
                    completions.fail(current.rows(), breaker.refusal());
                    next = b + 1 < plan.size() ? prepare(pool, plan.get(b + 1)) : null;
                    continue;
                }
                ModelCaller.Call call = caller.start(current.input());
                // The next batch is padded while this one runs.
                next = b + 1 < plan.size() ? prepare(pool, plan.get(b + 1)) : null;
                triage.settle(current.rows(), caller.await(call));
            }
        } finally {
            // Only when the loop dies mid-pool: a batch prepared ahead that will not run gives its buffers back.
            if (next != null) {
                next.input().close();
            }
        }
    }

    /** The planned rows still wanted, padded ahead; null when none is left. */
    private Planned prepare(List<QueuedRow> pool, int[] planned) {
        List<QueuedRow> batch = new ArrayList<>(planned.length);
        long now = clock.nanoTime();
        for (int index : planned) {
            QueuedRow row = pool.get(index);
            if (row.wanted()) {
                batch.add(row);
                stats.recordQueueDelay(now - row.enqueuedNanos());
            }
        }
        if (batch.isEmpty()) {
            return null;
        }
        RowModel.Batch input;
        try {
            input = model.prepare(FaultTriage.rowsOf(batch));
        } catch (RuntimeException | OutOfMemoryError e) {
            // Not prepared: the run pads the rows itself, and a failure there is handled as the run's own.
            input = RowModel.unprepared(FaultTriage.rowsOf(batch));
        }
        return new Planned(batch, input);
    }
}
