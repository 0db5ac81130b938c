package dev.kafkareranker.inference;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The engine's front door and waiting room: rows of every caller in arrival order, the soft bound that
 * tells callers to hold back, and the hand-over of <em>pools</em> to the batching loop.
 *
 * <p>Admission: a request's rows count against the bound from the moment it is admitted (before it is
 * tokenized) until they are taken into a pool, or until the request is withdrawn. The bound is soft, as
 * TEI's permits are not: rows handed over are always taken, so no caller ever blocks or fails for a full
 * queue; {@link #hasRoom()} false is the signal to hold new work back (the app pauses its input).
 *
 * <p>Pools: the loop takes rows in arrival order, at most {@link DynamicBatcher#POOL_BATCHES} full
 * batches' worth, and only once a full batch is queued or the oldest row has waited {@code maxDelay}.
 * Bounding the pool is the fairness: a row that arrives while a pool runs goes into the next one, so no
 * request waits behind more than one pool of later, shorter rows.
 */
final class RowQueue {

    private final int maxRows;
    private final int maxTokens;
    private final int bound;
    private final long maxDelayNanos;
    private final EngineClock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<QueuedRow> rows = new ArrayDeque<>();
    /** Rows admitted and not yet taken into a pool: being tokenized, or queued. */
    private final AtomicInteger held = new AtomicInteger();
    private int queuedMaxLength;
    /** Written under the lock; read without it only to refuse early. */
    private volatile boolean open = true;

    /**
     * @param maxRows   most rows of one batch; a pool holds {@link DynamicBatcher#POOL_BATCHES} times as many
     * @param maxTokens most rows × padded length of one batch
     * @param bound     rows held (admitted, not yet in a pool) at which {@link #hasRoom()} turns false
     * @param maxDelay  how long the oldest row waits for company while no full batch is queued
     */
    RowQueue(int maxRows, int maxTokens, int bound, Duration maxDelay, EngineClock clock) {
        if (bound < 1) {
            throw new IllegalArgumentException("inference.queue.max.rows must be at least 1 once resolved: " + bound);
        }
        this.maxRows = maxRows;
        this.maxTokens = maxTokens;
        this.bound = bound;
        this.maxDelayNanos = maxDelay.toNanos();
        this.clock = clock;
    }

    /** Whether new work is welcome: fewer rows held than the bound. Never blocks. */
    boolean hasRoom() {
        return held.get() < bound;
    }

    /** Rows admitted and not yet taken into a pool. */
    int held() {
        return held.get();
    }

    int bound() {
        return bound;
    }

    /** Counts a request's rows from now on, before they are tokenized; never refused (the bound is soft). */
    void admit(int count) {
        held.addAndGet(count);
    }

    /** Uncounts an admitted request that will not be queued (its tokenizing failed, it was cancelled, refused). */
    void withdraw(int count) {
        held.addAndGet(-count);
    }

    /**
     * Queues a request's rows, admitted as {@code admitted} rows (the count may differ from the rows made:
     * a bi-encoder adds the query's own). False, and nothing queued, once the queue is closed: the caller
     * then fails the request and withdraws it.
     */
    boolean offer(PendingRequest request, List<Encoded> encoded, int admitted) {
        long now = clock.nanoTime();
        lock.lock();
        try {
            if (!open) {
                return false;
            }
            for (int i = 0; i < encoded.size(); i++) {
                rows.add(new QueuedRow(request, i, encoded.get(i), now));
                queuedMaxLength = Math.max(queuedMaxLength, encoded.get(i).length());
            }
            held.addAndGet(encoded.size() - admitted);
            if (request.times != null) {
                request.times.enqueued(now);
            }
            arrived.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Whether rows are still taken; {@link #offer} decides under the lock, this is for a refusal ahead of it. */
    boolean isOpen() {
        return open;
    }

    /**
     * Waits for the next pool and takes it: rows in arrival order once a full batch is queued or the oldest
     * has waited its delay. Returns an empty pool when woken because {@code nanosUntilProbe} came due with
     * nothing queued (the breaker's probe), and null once the queue is closed.
     *
     * @param nanosUntilProbe time until the loop has work of its own; {@link Long#MAX_VALUE} for none
     */
    List<QueuedRow> awaitPool(LongSupplier nanosUntilProbe) {
        lock.lock();
        try {
            while (open) {
                long untilPool = nanosUntilPoolLocked();
                if (untilPool == 0) {
                    return takePool();
                }
                if (rows.isEmpty()) {
                    long untilProbe = nanosUntilProbe.getAsLong();
                    if (untilProbe <= 0) {
                        return List.of();
                    }
                    clock.await(arrived, untilProbe);
                } else {
                    clock.await(arrived, untilPool);
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Nanoseconds until a pool is due: 0 once a full batch is queued (no waiting for company then) or the
     * oldest row has waited its delay; {@link Long#MAX_VALUE} while nothing is queued.
     */
    long nanosUntilPool() {
        lock.lock();
        try {
            return nanosUntilPoolLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. */
    private long nanosUntilPoolLocked() {
        if (rows.isEmpty()) {
            return Long.MAX_VALUE;
        }
        if (fullBatchQueued()) {
            return 0;
        }
        return Math.max(0, rows.peekFirst().enqueuedNanos() + maxDelayNanos - clock.nanoTime());
    }

    /** Rows in arrival order, up to {@link DynamicBatcher#POOL_BATCHES} batches' worth of rows and tokens. Under the lock. */
    private List<QueuedRow> takePool() {
        long poolRows = (long) maxRows * DynamicBatcher.POOL_BATCHES;
        long poolTokens = (long) maxTokens * DynamicBatcher.POOL_BATCHES;
        List<QueuedRow> pool = new ArrayList<>((int) Math.min(rows.size(), poolRows));
        long tokens = 0;
        while (!rows.isEmpty() && pool.size() < poolRows) {
            QueuedRow next = rows.peekFirst();
            if (!pool.isEmpty() && tokens + next.length() > poolTokens) {
                break;
            }
            pool.add(rows.pollFirst());
            tokens += next.length();
        }
        queuedMaxLength = 0;
        for (QueuedRow row : rows) {
            queuedMaxLength = Math.max(queuedMaxLength, row.length());
        }
        held.addAndGet(-pool.size());
        return pool;
    }

    private boolean fullBatchQueued() {
        return rows.size() >= maxRows || (long) rows.size() * queuedMaxLength >= maxTokens;
    }

    /** Takes no more rows, wakes the loop, and returns the rows still queued (uncounted) for the caller to fail. */
    List<QueuedRow> close() {
        lock.lock();
        try {
            open = false;
            List<QueuedRow> left = new ArrayList<>(rows);
            rows.clear();
            queuedMaxLength = 0;
            held.addAndGet(-left.size());
            arrived.signalAll();
            return left;
        } finally {
            lock.unlock();
        }
    }
}
