package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the rows of requests from any number of threads into batches for one model, on one worker
 * thread: rows are sorted by length so each batch pads little, each batch stays within a row cap and
 * a token budget (rows × padded length), and a lone request waits at most {@code maxDelay} for company.
 *
 * <p>Three stages, so the device never waits for the host: the worker takes a <em>pool</em> of rows in
 * arrival order (at most {@value #POOL_BATCHES} full batches), sorts only that pool by length and plans
 * its batches; it prepares (pads into reused direct buffers) the next batch while the run thread runs the
 * current one; and the futures are completed on a finisher thread, so callers' callbacks never run on
 * the run thread or hold up the worker. Bounding the pool is the fairness: a request that arrives while
 * a pool runs goes into the next one, so no request waits behind more than one pool (draining and
 * sorting the whole queue would let every later, shorter request overtake it).
 *
 * <p>Failures, by whose fault they are:
 * <ul>
 *   <li>A batch that fails as a whole is followed by a tiny probe batch. If the probe succeeds the model
 *       is fine and the rows are at fault: the batch is split in halves and retried, so one bad row fails
 *       only its own request (an {@link InferenceException}: permanent). If the probe fails too, or the
 *       batch ran past {@code batchTimeout}, the model is at fault: every request of the batch fails with a
 *       {@link ModelUnavailableException} (transient) and the {@link CircuitBreaker} counts it.</li>
 *   <li>A row whose output holds NaN or an infinity fails its request ({@link NonFiniteScoreException}).</li>
 *   <li>A model call that hangs is abandoned after {@code batchTimeout}: it is asked to terminate
 *       ({@link RowModel#cancelRunning()}) and later batches run on a fresh thread.</li>
 *   <li>Any other Throwable on the worker (an Error such as a LinkageError from the native runtime) fails
 *       every pending request and kills the batcher: {@link #submit} then refuses at once and the health
 *       says {@link ModelHealth.State#DEAD}. An OutOfMemoryError from a model call (a direct buffer) is a
 *       failed batch instead: its halves may fit.</li>
 * </ul>
 */
final class DynamicBatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DynamicBatcher.class);

    /** Generous on a CPU, where a full batch of long passages on a large model takes seconds. */
    static final Duration DEFAULT_BATCH_TIMEOUT = Duration.ofSeconds(30);
    /** Three in a row: one bad batch is noise, three with a failed probe each is a broken model. */
    static final int DEFAULT_BREAKER_FAILURES = 3;
    static final Duration DEFAULT_BREAKER_BACKOFF = Duration.ofSeconds(5);
    /**
     * A pool holds at most this many full batches: enough rows that sorting by length pads little, few
     * enough that a request's wait is bounded by one pool, not by the whole backlog.
     */
    static final int POOL_BATCHES = 4;

    /**
     * @param maxRows         most rows in one run
     * @param maxTokens       most rows × padded length in one run
     * @param maxDelay        how long the worker waits for more rows before running a batch that is not full
     * @param maxPaddingRatio most padded over real tokens in one batch
     * @param batchTimeout    a model call running longer is abandoned and its requests fail
     * @param breakerFailures model faults in a row that open the circuit breaker
     * @param breakerBackoff  how long an open breaker waits before its first probe
     */
    record Options(int maxRows, int maxTokens, Duration maxDelay, double maxPaddingRatio,
                   Duration batchTimeout, int breakerFailures, Duration breakerBackoff) {

        Options {
            if (batchTimeout.isNegative() || batchTimeout.isZero()) {
                throw new IllegalArgumentException("inference.batch.timeout.ms must be > 0: " + batchTimeout.toMillis());
            }
        }

        Options(int maxRows, int maxTokens, Duration maxDelay, double maxPaddingRatio) {
            this(maxRows, maxTokens, maxDelay, maxPaddingRatio, DEFAULT_BATCH_TIMEOUT, DEFAULT_BREAKER_FAILURES, DEFAULT_BREAKER_BACKOFF);
        }

        Options(int maxRows, int maxTokens, Duration maxDelay) {
            this(maxRows, maxTokens, maxDelay, Double.POSITIVE_INFINITY);
        }

        Options withHealth(Duration timeout, int failures, Duration backoff) {
            return new Options(maxRows, maxTokens, maxDelay, maxPaddingRatio, timeout, failures, backoff);
        }
    }

    private static final class Request {
        final float[][] outputs;
        final CompletableFuture<float[][]> future = new CompletableFuture<>();
        int remaining;

        Request(int rows) {
            outputs = new float[rows][];
            remaining = rows;
        }
    }

    private record Row(Request request, int index, Encoded encoded, long enqueuedNanos) {}

    /** What one model call gave: outputs, or the failure and whether it was a timeout. */
    private record Attempt(float[][] outputs, Throwable failure, boolean timedOut) {}

    private final RowModel model;
    private final Options options;
    /** Plans each pool's batches; told of batches that ran out of memory. */
    private final BatchSizer sizer;
    private final EngineStats stats;
    private final String name;
    private final List<Encoded> probe;
    private final CircuitBreaker breaker;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<Row> queue = new ArrayDeque<>();
    private int queuedMaxLength;
    private boolean running = true;
    private Throwable died;
    /** Rows taken off the queue and not yet answered: failed too if the worker dies. Worker thread only. */
    private List<Row> inHand = List.of();
    /** Runs model calls so the worker can give up on one that hangs; replaced when one is abandoned. */
    private volatile ExecutorService runner;
    private int runnerGeneration;
    /** Completes futures, so callbacks run neither on the run thread nor on the worker. */
    private final ExecutorService finisher;
    private final Thread worker;

    /**
     * @param probe rows of a tiny known-good request, run to tell a broken model from bad rows and to
     *              test an open breaker; empty = no probing (whole-batch failures are treated as bad rows)
     */
    DynamicBatcher(RowModel model, Options options, EngineStats stats, String name, List<Encoded> probe) {
        this.model = model;
        this.options = options;
        this.sizer = BatchSizer.tokenBudget(options.maxRows(), options.maxTokens(), options.maxPaddingRatio());
        this.stats = stats;
        this.name = name;
        this.probe = List.copyOf(probe);
        this.breaker = new CircuitBreaker(name, options.breakerFailures(), options.breakerBackoff());
        this.runner = newRunner();
        this.finisher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "inference-" + name + "-finish");
            t.setDaemon(true);
            return t;
        });
        this.worker = new Thread(this::work, "inference-" + name);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    DynamicBatcher(RowModel model, Options options, EngineStats stats, String name) {
        this(model, options, stats, name, List.of());
    }

    private ExecutorService newRunner() {
        int generation = ++runnerGeneration;
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "inference-" + name + "-run-" + generation);
            t.setDaemon(true);
            return t;
        });
    }

    ModelHealth health() {
        return breaker.health();
    }

    CompletableFuture<float[][]> submit(List<Encoded> rows) {
        Request request = new Request(rows.size());
        if (rows.isEmpty()) {
            request.future.complete(new float[0][]);
            return request.future;
        }
        long now = System.nanoTime();
        lock.lock();
        try {
            ModelUnavailableException refused = refusalLocked();
            if (refused != null) {
                request.future.completeExceptionally(refused);
                return request.future;
            }
            for (int i = 0; i < rows.size(); i++) {
                queue.add(new Row(request, i, rows.get(i), now));
                queuedMaxLength = Math.max(queuedMaxLength, rows.get(i).length());
            }
            arrived.signal();
        } finally {
            lock.unlock();
        }
        return request.future;
    }

    /**
     * Why a request would be refused right now (dead, closed, breaker open), or null when it would be taken:
     * so a caller can refuse at once, before tokenizing.
     */
    ModelUnavailableException refusal() {
        lock.lock();
        try {
            return refusalLocked();
        } finally {
            lock.unlock();
        }
    }

    private ModelUnavailableException refusalLocked() {
        if (died != null) {
            return new ModelUnavailableException("The inference worker of " + name
                    + " died (" + died + "); nothing will be scored until the model is reloaded or the app restarts", died);
        }
        if (!running) {
            return new ModelUnavailableException("the inference engine of " + name + " is closed");
        }
        // Refused at once rather than queued: a request the model will fail anyway only holds its caller.
        if (breaker.rejecting()) {
            return breaker.refusal();
        }
        return null;
    }

    private void work() {
        try {
            while (true) {
                List<Row> pool;
                lock.lock();
                try {
                    while (running && queue.isEmpty() && !breaker.probeDue()) {
                        long untilProbe = breaker.nanosUntilProbe();
                        if (untilProbe == Long.MAX_VALUE) {
                            arrived.awaitUninterruptibly();
                        } else {
                            awaitNanos(untilProbe);
                        }
                    }
                    if (!running) {
                        return;
                    }
                    if (!queue.isEmpty()) {
                        // Wait for company only while no full batch is queued, and never past the oldest row's delay.
                        long deadline = queue.peekFirst().enqueuedNanos() + options.maxDelay().toNanos();
                        while (running && !fullBatchQueued()) {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) {
                                break;
                            }
                            awaitNanos(left);
                        }
                    }
                    pool = takePool();
                    inHand = pool;
                } finally {
                    lock.unlock();
                }
                if (breaker.probeDue()) {
                    probeOpenBreaker();
                }
                runPool(pool);
                inHand = List.of();
            }
        } catch (Throwable t) {
            die(t);
        }
    }

    private void awaitNanos(long nanos) {
        try {
            arrived.awaitNanos(nanos);
        } catch (InterruptedException e) {
            // Nothing interrupts the worker on purpose; the loop re-checks its conditions.
            Thread.interrupted();
        }
    }

    private void die(Throwable t) {
        LOG.error("The inference worker of {} died; its pending requests fail and new ones are refused until the model is "
                + "reloaded or the app restarts", name, t);
        breaker.dead("the inference worker died: " + t);
        List<Row> pending = new ArrayList<>(inHand);
        lock.lock();
        try {
            died = t;
            running = false;
            pending.addAll(queue);
            queue.clear();
        } finally {
            lock.unlock();
        }
        ModelUnavailableException failure = new ModelUnavailableException("The inference worker of " + name + " died: " + t, t);
        for (Row row : pending) {
            row.request().future.completeExceptionally(failure);
        }
        runner.shutdownNow();
    }

    /** Rows in arrival order, up to {@value #POOL_BATCHES} batches' worth of rows and tokens. Under the lock. */
    private List<Row> takePool() {
        long maxRows = (long) options.maxRows() * POOL_BATCHES;
        long maxTokens = (long) options.maxTokens() * POOL_BATCHES;
        List<Row> pool = new ArrayList<>((int) Math.min(queue.size(), maxRows));
        long tokens = 0;
        while (!queue.isEmpty() && pool.size() < maxRows) {
            Row next = queue.peekFirst();
            if (!pool.isEmpty() && tokens + next.encoded().length() > maxTokens) {
                break;
            }
            pool.add(queue.pollFirst());
            tokens += next.encoded().length();
        }
        queuedMaxLength = 0;
        for (Row row : queue) {
            queuedMaxLength = Math.max(queuedMaxLength, row.encoded().length());
        }
        return pool;
    }

    private boolean fullBatchQueued() {
        return queue.size() >= options.maxRows() || (long) queue.size() * queuedMaxLength >= options.maxTokens();
    }

    /** A batch of rows with its prepared input, made while the previous batch ran. */
    private record Planned(List<Row> rows, RowModel.Batch input) {}

    private void runPool(List<Row> pool) throws Throwable {
        int[] lengths = new int[pool.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = pool.get(i).encoded().length();
        }
        List<int[]> plan = sizer.plan(lengths);
        if (plan.isEmpty()) {
            return;  // woken for a probe only
        }
        Planned next = prepare(pool, plan.get(0));
        for (int b = 0; b < plan.size(); b++) {
            Planned current = next;
            if (current == null) {
                next = b + 1 < plan.size() ? prepare(pool, plan.get(b + 1)) : null;
                continue;
            }
            if (breaker.rejecting()) {
                current.input().close();
                fail(current.rows(), breaker.refusal());
                next = b + 1 < plan.size() ? prepare(pool, plan.get(b + 1)) : null;
                continue;
            }
            Pending pending = submit(current.input());
            // The next batch is padded while this one runs: the device does not wait for the host.
            next = b + 1 < plan.size() ? prepare(pool, plan.get(b + 1)) : null;
            runPlanned(current.rows(), await(pending));
        }
    }

    /** The planned rows still wanted (a cancelled request's are dropped), padded ahead; null when none is left. */
    private Planned prepare(List<Row> pool, int[] planned) {
        List<Row> batch = new ArrayList<>(planned.length);
        long now = System.nanoTime();
        for (int index : planned) {
            Row row = pool.get(index);
            if (!row.request().future.isDone()) {
                batch.add(row);
                stats.recordQueueDelay(now - row.enqueuedNanos());
            }
        }
        if (batch.isEmpty()) {
            return null;
        }
        RowModel.Batch input;
        try {
            input = model.prepare(rowsOf(batch));
        } catch (RuntimeException | OutOfMemoryError e) {
            // Not prepared: the run pads the rows itself, and a failure there is handled as the run's own.
            input = RowModel.unprepared(rowsOf(batch));
        }
        return new Planned(batch, input);
    }

    /** One planned batch: on a whole-batch failure, the probe tells a broken model from bad rows. */
    private void runPlanned(List<Row> batch, Attempt attempt) throws Throwable {
        if (attempt.failure() == null) {
            int answered = deliver(batch, attempt.outputs());
            if (answered > 0 || probeHealthy()) {
                breaker.success();
                failNonFinite(batch, attempt.outputs());
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
        if (!probeHealthy()) {
            modelFault(batch, new ModelUnavailableException("A batch of " + batch.size() + " rows of " + name
                    + " failed and so did the probe batch, so the model is at fault, not the rows: " + e, e));
            return;
        }
        breaker.success();
        splitAfterFailure(batch, e);
    }

    /** The model is known to work: a failure here is the rows' own, isolated by halving. */
    private void runSplitting(List<Row> batch) throws Throwable {
        if (breaker.rejecting()) {
            fail(batch, breaker.refusal());
            return;
        }
        Attempt attempt = attempt(rowsOf(batch));
        if (attempt.failure() == null) {
            deliver(batch, attempt.outputs());
            failNonFinite(batch, attempt.outputs());
        } else if (attempt.timedOut()) {
            modelFault(batch, (ModelUnavailableException) attempt.failure());
        } else {
            splitAfterFailure(batch, attempt.failure());
        }
    }

    private void splitAfterFailure(List<Row> batch, Throwable e) throws Throwable {
        if (batch.size() == 1) {
            LOG.warn("A row of {} failed alone while the model scores others; its request fails: {}", name, e.toString());
            finish(batch.get(0).request().future, null, e instanceof InferenceException ? e
                    : new InferenceException("Scoring a row with " + name + " failed: " + e, e));
            return;
        }
        LOG.warn("A batch of {} rows of {} failed; retrying it in halves: {}", batch.size(), name, e.toString());
        int half = batch.size() / 2;
        runSplitting(batch.subList(0, half));
        runSplitting(batch.subList(half, batch.size()));
    }

    private void modelFault(List<Row> batch, ModelUnavailableException failure) {
        breaker.fault(failure.getMessage());
        fail(batch, failure);
    }

    private void fail(List<Row> batch, Throwable failure) {
        for (Row row : batch) {
            finish(row.request().future, null, failure);
        }
    }

    /**
     * Completes a caller's future on the finisher thread: its callbacks (scores, the gatherer's
     * continuation) then never run on the run thread and never delay the worker's next batch.
     */
    private void finish(CompletableFuture<float[][]> future, float[][] outputs, Throwable failure) {
        Runnable complete = () -> {
            if (failure == null) {
                future.complete(outputs);
            } else {
                future.completeExceptionally(failure);
            }
        };
        try {
            finisher.execute(complete);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            complete.run();
        }
    }

    /** After the backoff of an open breaker: one probe closes it or keeps it open. */
    private void probeOpenBreaker() throws Throwable {
        if (probe.isEmpty()) {
            // Nothing to probe with: let real work be the probe.
            breaker.success();
            return;
        }
        Attempt attempt = attempt(probe);
        if (attempt.failure() == null && allFinite(attempt.outputs())) {
            breaker.success();
        } else {
            breaker.fault(attempt.failure() != null ? "probe batch failed: " + attempt.failure() : "probe batch gave non-finite outputs");
        }
    }

    private boolean probeHealthy() throws Throwable {
        if (probe.isEmpty()) {
            return true;
        }
        Attempt attempt = attempt(probe);
        return attempt.failure() == null && allFinite(attempt.outputs());
    }

    private static List<Encoded> rowsOf(List<Row> batch) {
        List<Encoded> encoded = new ArrayList<>(batch.size());
        for (Row row : batch) {
            encoded.add(row.encoded());
        }
        return encoded;
    }

    /**
     * One model call on the runner thread, given up after the batch timeout. Errors other than an
     * OutOfMemoryError are rethrown: the runtime itself is broken, and the worker dies of them.
     */
    private Attempt attempt(List<Encoded> rows) throws Throwable {
        RowModel.Batch input;
        try {
            input = model.prepare(rows);
        } catch (RuntimeException | OutOfMemoryError e) {
            stats.recordFailedBatch();
            return new Attempt(null, e, false);
        }
        return await(submit(input));
    }

    /** A model call handed to the run thread. */
    private record Pending(RowModel.Batch input, Future<float[][]> call, long startNanos, Throwable refused) {}

    private Pending submit(RowModel.Batch input) {
        long start = System.nanoTime();
        try {
            return new Pending(input, runner.submit(() -> model.run(input)), start, null);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closed under us: the rows fail as the engine's are.
            return new Pending(input, null, start, new ModelUnavailableException("the inference engine of " + name + " is closed"));
        }
    }

    /**
     * Waits for one model call on the runner thread, given up after the batch timeout. Errors other than an
     * OutOfMemoryError are rethrown: the runtime itself is broken, and the worker dies of them.
     */
    private Attempt await(Pending pending) throws Throwable {
        List<Encoded> rows = pending.input().rows();
        if (pending.refused() != null) {
            pending.input().close();
            return new Attempt(null, pending.refused(), false);
        }
        boolean release = true;
        try {
            float[][] outputs = pending.call().get(options.batchTimeout().toNanos(), TimeUnit.NANOSECONDS);
            if (outputs == null || outputs.length != rows.size()) {
                stats.recordFailedBatch();
                return new Attempt(null, new InferenceException("Model " + name + " returned " + (outputs == null ? "no" : outputs.length)
                        + " outputs for " + rows.size() + " rows"), false);
            }
            long real = 0;
            int width = 0;
            for (Encoded row : rows) {
                real += row.length();
                width = Math.max(width, row.length());
            }
            stats.recordBatch(rows.size(), real, (long) width * rows.size(), System.nanoTime() - pending.startNanos());
            return new Attempt(outputs, null, false);
        } catch (ExecutionException e) {
            stats.recordFailedBatch();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof Error && !(cause instanceof OutOfMemoryError)) {
                throw cause;
            }
            return new Attempt(null, cause, false);
        } catch (TimeoutException e) {
            stats.recordFailedBatch();
            // The hung call may still read its input buffers: they are left to it, never reused.
            release = false;
            abandon(pending.call());
            return new Attempt(null, new InferenceTimeoutException("A batch of " + rows.size() + " rows of " + name + " ran longer than "
                    + options.batchTimeout().toMillis() + " ms and was abandoned (inference.batch.timeout.ms; a hung device or a "
                    + "model far too slow for it)"), true);
        } catch (InterruptedException e) {
            Thread.interrupted();
            return new Attempt(null, new InferenceException("interrupted while waiting for " + name, e), false);
        } finally {
            if (release) {
                pending.input().close();
            }
        }
    }

    /** Asks the hung call to stop, and moves later calls to a fresh thread whether or not it does. */
    private void abandon(Future<float[][]> call) {
        LOG.error("Model {}: a call ran past inference.batch.timeout.ms={}; asking it to terminate and running later batches "
                + "on a new thread", name, options.batchTimeout().toMillis());
        try {
            model.cancelRunning();
        } catch (RuntimeException e) {
            LOG.warn("Model {}: terminating the hung call failed: {}", name, e.toString());
        }
        call.cancel(true);
        ExecutorService stuck = runner;
        runner = newRunner();
        stuck.shutdownNow();
    }

    /** Completes the requests whose rows are all in; returns how many rows had finite outputs. */
    private int deliver(List<Row> batch, float[][] outputs) {
        int finite = 0;
        for (int i = 0; i < batch.size(); i++) {
            if (!isFinite(outputs[i])) {
                continue;
            }
            finite++;
            Row row = batch.get(i);
            Request request = row.request();
            request.outputs[row.index()] = outputs[i];
            if (--request.remaining == 0) {
                finish(request.future, request.outputs, null);
            }
        }
        return finite;
    }

    private void failNonFinite(List<Row> batch, float[][] outputs) {
        for (int i = 0; i < batch.size(); i++) {
            if (!isFinite(outputs[i])) {
                LOG.warn("A row of {} gave a non-finite output {}; its request fails", name, java.util.Arrays.toString(outputs[i]));
                finish(batch.get(i).request().future, null, new NonFiniteScoreException("Model " + name
                        + " gave a non-finite output for a row (" + java.util.Arrays.toString(outputs[i])
                        + "): it cannot be ranked, so its query is not scored"));
            }
        }
    }

    private static boolean allFinite(float[][] outputs) {
        for (float[] row : outputs) {
            if (!isFinite(row)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isFinite(float[] row) {
        if (row == null) {
            return false;
        }
        for (float v : row) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            running = false;
            arrived.signalAll();
            for (Row row : queue) {
                row.request().future.completeExceptionally(new ModelUnavailableException("the inference engine of " + name + " was closed"));
            }
            queue.clear();
        } finally {
            lock.unlock();
        }
        if (breaker.health().state() != ModelHealth.State.DEAD) {
            breaker.dead("the engine is closed");
        }
        // Closed from its own worker (the last lease of a retired version released there): joining would wait on itself.
        if (Thread.currentThread() != worker) {
            try {
                worker.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        runner.shutdown();
        // Queued completions still run: every future this batcher took ends.
        finisher.shutdown();
    }
}
