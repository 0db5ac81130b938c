package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the rows of requests from any number of threads into batches for one model, on one worker
 * thread: rows are sorted by length so each batch pads little, each batch is what the {@link BatchSizer}
 * plans, and a lone request waits at most {@code maxDelay} for company.
 *
 * <p>The small loop that joins the engine's rooms, each testable alone:
 * <ul>
 *   <li>{@link RowQueue}: admission, the soft bound and its backpressure signal ({@link #hasRoom()}),
 *       and pools of rows in arrival order (the fairness: no request waits behind more than one pool).</li>
 *   <li>{@link BatchLoop}: plans each pool's batches and pads the next batch while one runs.</li>
 *   <li>{@link FaultTriage}: on a failed batch, a probe tells a broken model from bad rows (halving finds a
 *       bad row, whose request alone fails, permanently) or from a batch too large for memory (the
 *       sizer is told, halves retried); the {@link CircuitBreaker} counts model faults.</li>
 *   <li>{@link ModelCaller}: runs each model call on a run thread and abandons one that runs past
 *       {@code batchTimeout} ({@link RowModel#cancelRunning()}; later calls on a fresh thread).</li>
 *   <li>{@link Completions}: answers requests on a finisher thread; non-finite rows fail their request.</li>
 * </ul>
 *
 * <p>Any Throwable on the worker other than those (an Error such as a LinkageError from the native
 * runtime) fails every pending request and kills the batcher: {@link #submit} then refuses at once and
 * the health says {@link ModelHealth.State#DEAD}. An OutOfMemoryError from a model call (a direct
 * buffer) is a failed batch instead: its halves may fit.
 *
 * <p>The worker, and every model call, hold a reference to the model's natives ({@link ModelReferences}),
 * so closing the batcher never closes a session under a running call.
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
     * The queue's default bound, in pools: one pool gathering while one runs keeps every pool full (so
     * batches stay sorted and full), and a second covers the time the app takes to pause its input once
     * told; more would only add to every newly admitted query's wait.
     */
    static final int DEFAULT_QUEUE_POOLS = 2;

    /**
     * @param maxRows         most rows in one batch: a pool and "a full batch is queued" are measured in it
     * @param maxTokens       most rows × padded length in one batch, likewise
     * @param maxDelay        how long the worker waits for more rows before running a batch that is not full
     * @param batchTimeout    a model call running longer is abandoned and its requests fail
     * @param breakerFailures model faults in a row that open the circuit breaker
     * @param breakerBackoff  how long an open breaker waits before its first probe
     * @param maxQueuedRows   rows admitted and not yet in a pool at which {@link #hasRoom()} turns false;
     *                        0 = {@value #DEFAULT_QUEUE_POOLS} pools' worth
     */
    record Options(int maxRows, int maxTokens, Duration maxDelay, Duration batchTimeout, int breakerFailures,
                   Duration breakerBackoff, int maxQueuedRows) {

        Options {
            if (batchTimeout.isNegative() || batchTimeout.isZero()) {
                throw new IllegalArgumentException("inference.batch.timeout.ms must be > 0: " + batchTimeout.toMillis());
            }
            if (maxQueuedRows < 0) {
                throw new IllegalArgumentException("inference.queue.max.rows must be >= 0: " + maxQueuedRows);
            }
        }

        Options(int maxRows, int maxTokens, Duration maxDelay) {
            this(maxRows, maxTokens, maxDelay, DEFAULT_BATCH_TIMEOUT, DEFAULT_BREAKER_FAILURES, DEFAULT_BREAKER_BACKOFF, 0);
        }

        Options withHealth(Duration timeout, int failures, Duration backoff) {
            return new Options(maxRows, maxTokens, maxDelay, timeout, failures, backoff, maxQueuedRows);
        }

        Options withMaxQueuedRows(int rows) {
            return new Options(maxRows, maxTokens, maxDelay, batchTimeout, breakerFailures, breakerBackoff, rows);
        }

        /** The bound in effect: the setting, or {@value #DEFAULT_QUEUE_POOLS} pools of full batches. */
        int queueBound() {
            return maxQueuedRows > 0 ? maxQueuedRows : (int) Math.min(Integer.MAX_VALUE, (long) DEFAULT_QUEUE_POOLS * POOL_BATCHES * maxRows);
        }
    }

    private final String name;
    private final RowQueue queue;
    private final CircuitBreaker breaker;
    private final ModelCaller caller;
    private final Completions completions;
    private final FaultTriage triage;
    private final BatchLoop loop;
    private final ModelReferences references;
    private volatile Throwable died;
    /** Rows taken off the queue and not yet answered: failed too if the worker dies. Worker thread only. */
    private List<QueuedRow> inHand = List.of();

    /**
     * @param sizer      plans each pool's batches; told of batches that ran and of those that ran out of memory
     * @param probe      rows of a tiny known-good request (see {@link FaultTriage}); empty = no probing
     * @param references the model's natives: the worker holds one while it runs, each model call one until it returns
     */
    DynamicBatcher(RowModel model, Options options, BatchSizer sizer, EngineStats stats, String name, List<Encoded> probe,
                   ModelReferences references, EngineClock clock) {
        this.name = name;
        this.references = references;
        this.queue = new RowQueue(options.maxRows(), options.maxTokens(), options.queueBound(), options.maxDelay(), clock);
        this.breaker = new CircuitBreaker(name, options.breakerFailures(), options.breakerBackoff(), clock::nanoTime);
        this.completions = new Completions(name, Executors.newSingleThreadExecutor(DaemonThreads.named("inference-" + name + "-finish")));
        ThreadFactory runThreads = DaemonThreads.numbered("inference-" + name + "-run-");
        this.caller = new ModelCaller(model, name, options.batchTimeout(), stats, references, clock,
                () -> Executors.newSingleThreadExecutor(runThreads));
        this.triage = new FaultTriage(caller, completions, breaker, sizer, probe);
        this.loop = new BatchLoop(model, sizer, caller, triage, completions, breaker, stats, clock);
        if (!references.retain()) {
            throw new IllegalStateException("the natives of model " + name + " are already closed");
        }
        Thread worker = DaemonThreads.named("inference-" + name).newThread(this::work);
        worker.start();
    }

    ModelHealth health() {
        return breaker.health();
    }

    /** Whether the queue is below its bound; see {@link RowQueue#hasRoom()}. */
    boolean hasRoom() {
        return queue.hasRoom();
    }

    /** Rows admitted and not yet taken into a pool. */
    int heldRows() {
        return queue.held();
    }

    /** Admits and queues rows already tokenized. */
    CompletableFuture<float[][]> submit(List<Encoded> rows) {
        ModelUnavailableException refused = admit(rows.size());
        return refused != null ? CompletableFuture.failedFuture(refused) : submit(rows, rows.size());
    }

    /**
     * Counts a request of {@code rows} rows against the queue's bound before it is tokenized, or says why
     * it would be refused right now (dead, closed, breaker open) and counts nothing: so a caller can refuse
     * at once, before tokenizing. An admitted request is later {@linkplain #submit(List, int) submitted}
     * or {@linkplain #withdraw withdrawn}, exactly once.
     */
    ModelUnavailableException admit(int rows) {
        ModelUnavailableException refused = refusal();
        if (refused == null) {
            queue.admit(rows);
        }
        return refused;
    }

    /** An admitted request that will not be submitted. */
    void withdraw(int admitted) {
        queue.withdraw(admitted);
    }

    /** Queues the rows of a request admitted as {@code admitted} rows. */
    CompletableFuture<float[][]> submit(List<Encoded> rows, int admitted) {
        return submit(rows, admitted, null);
    }

    /** As {@link #submit(List, int)}, noting in {@code times} (when not null) when its rows were queued and which batches ran them. */
    CompletableFuture<float[][]> submit(List<Encoded> rows, int admitted, StageTimes times) {
        PendingRequest request = new PendingRequest(rows.size(), times);
        if (rows.isEmpty()) {
            queue.withdraw(admitted);
            request.future.complete(new float[0][]);
            return request.future;
        }
        // Refused at once rather than queued: a request the model will fail anyway only holds its caller.
        ModelUnavailableException refused = refusal();
        if (refused == null && queue.offer(request, rows, admitted)) {
            return request.future;
        }
        queue.withdraw(admitted);
        request.future.completeExceptionally(refused != null ? refused : closedOrDead());
        return request.future;
    }

    /** Why a request would be refused right now (dead, closed, breaker open), or null when it would be taken. */
    ModelUnavailableException refusal() {
        if (died != null || !queue.isOpen()) {
            return closedOrDead();
        }
        return breaker.rejecting() ? breaker.refusal() : null;
    }

    private ModelUnavailableException closedOrDead() {
        Throwable t = died;
        if (t != null) {
            return new ModelUnavailableException("The inference worker of " + name + " died (" + t
                    + "); nothing will be scored until the model is reloaded or the app restarts", t);
        }
        return new ModelUnavailableException("the inference engine of " + name + " is closed");
    }

    private void work() {
        try {
            for (List<QueuedRow> pool = queue.awaitPool(breaker::nanosUntilProbe); pool != null;
                    pool = queue.awaitPool(breaker::nanosUntilProbe)) {
                inHand = pool;
                if (breaker.probeDue()) {
                    triage.probeOpenBreaker();
                }
                loop.runPool(pool);
                inHand = List.of();
            }
        } catch (Throwable t) {
            die(t);
        } finally {
            caller.shutdown();
            // Completions handed over still run: every future this batcher took ends.
            completions.shutdown();
            references.release();
        }
    }

    private void die(Throwable t) {
        LOG.error("The inference worker of {} died; its pending requests fail and new ones are refused until the model is "
                + "reloaded or the app restarts", name, t);
        died = t;
        breaker.dead("the inference worker died: " + t);
        List<QueuedRow> pending = new ArrayList<>(inHand);
        pending.addAll(queue.close());
        completions.fail(pending, new ModelUnavailableException("The inference worker of " + name + " died: " + t, t));
        caller.shutdownNow();
    }

    /**
     * Takes no more work and fails what is still queued; the batch running now (and the rest of its pool)
     * finishes, and the worker then ends. Never waits: the model's natives close when the last call using
     * them returns ({@link ModelReferences}), not here.
     */
    @Override
    public void close() {
        ModelUnavailableException closed = new ModelUnavailableException("the inference engine of " + name + " was closed");
        for (QueuedRow row : queue.close()) {
            row.request().future.completeExceptionally(closed);
        }
        if (breaker.health().state() != ModelHealth.State.DEAD) {
            breaker.dead("the engine is closed");
        }
    }
}
