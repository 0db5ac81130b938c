package dev.kafkareranker.inference;

import static dev.kafkareranker.inference.DynamicBatcherTest.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The watchdog-runner alone, on a clock the test moves: a call's outcome, the batch timeout, and what a
 * call holds (its input, a reference to the model's natives) until it returns, abandoned or not.
 */
class ModelCallerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** A device call the test holds: it ignores being told to terminate, as a kernel stuck in the driver does. */
    private static final class HeldRowModel implements RowModel {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger cancels = new AtomicInteger();
        final AtomicReference<String> thread = new AtomicReference<>();
        volatile boolean hold = true;
        final AtomicBoolean closed = new AtomicBoolean();

        @Override
        public float[][] run(List<Encoded> rows) {
            thread.set(Thread.currentThread().getName());
            if (hold) {
                hold = false;
                entered.countDown();
                while (release.getCount() > 0) {
                    // Interrupts, as the abandoned thread gets, do not stop a native call either.
                    DynamicBatcherTest.await(release);
                }
            }
            return new float[rows.size()][] ;
        }

        @Override
        public Batch prepare(List<Encoded> rows) {
            return new TrackedBatch(rows);
        }

        @Override
        public void cancelRunning() {
            cancels.incrementAndGet();
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    /** An input that records being closed: its tensors must outlive the call that reads them. */
    private static final class TrackedBatch implements RowModel.Batch {
        final List<Encoded> rows;
        final AtomicInteger closes = new AtomicInteger();

        TrackedBatch(List<Encoded> rows) {
            this.rows = List.copyOf(rows);
        }

        @Override
        public List<Encoded> rows() {
            return rows;
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    private final FakeClock clock = new FakeClock();
    private final HeldRowModel model = new HeldRowModel();
    private final ModelReferences references = new ModelReferences("test", model);
    private final AtomicInteger runners = new AtomicInteger();
    private final ModelCaller caller = new ModelCaller(model, "test", TIMEOUT, new EngineStats(), references, clock,
            () -> Executors.newSingleThreadExecutor(DaemonThreads.named("run-" + runners.incrementAndGet())));

    @AfterEach
    void releaseTheDevice() {
        model.release.countDown();
        caller.shutdown();
    }

    @Test
    void aCallThatReturnsInTimeGivesItsOutputsAndClosesItsInputOnItsRunThread() throws Throwable {
        model.hold = false;
        TrackedBatch input = new TrackedBatch(List.of(row(1, 2), row(2, 3)));
        ModelCaller.Attempt attempt = caller.await(caller.start(input));
        assertTrue(attempt.succeeded());
        assertEquals(2, attempt.outputs().length);
        assertEquals(1, input.closes.get(), "closed once, by the call");
        assertEquals("run-1", model.thread.get());
        Await.until(() -> references.count() == 1, "the call's reference released");
    }

    @Test
    void aCallPastTheTimeoutIsAbandonedAndKeepsItsInputAndTheNativesUntilItReturns() throws Throwable {
        TrackedBatch input = new TrackedBatch(List.of(row(1, 2)));
        ModelCaller.Call call = caller.start(input);
        DynamicBatcherTest.await(model.entered);
        CompletableFuture<ModelCaller.Attempt> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return caller.await(call);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        });
        clock.advance(TIMEOUT.minusNanos(1));
        assertFalse(waiting.isDone() && waiting.join().timedOut(), "not before the timeout");
        clock.advance(Duration.ofNanos(1));
        ModelCaller.Attempt attempt = waiting.get(Await.HANG.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(attempt.timedOut());
        assertInstanceOf(InferenceTimeoutException.class, attempt.failure());
        assertEquals(1, model.cancels.get(), "the call was asked to terminate");

        // Abandoned, yet still inside the device: its input and the session stay open, closed or not by their owner.
        references.releaseOwner();
        assertEquals(0, input.closes.get(), "its input tensors are still read by the call");
        assertEquals(1, references.count(), "the call holds the natives");
        assertFalse(model.closed.get());

        model.hold = false;
        model.release.countDown();
        Await.until(model.closed::get, "the natives closed once the abandoned call returned");
        assertEquals(1, input.closes.get(), "its input closed when it returned, not leaked");
    }

    @Test
    void theCallAfterAnAbandonedOneRunsOnAFreshThread() throws Throwable {
        ModelCaller.Call hung = caller.start(new TrackedBatch(List.of(row(1, 2))));
        DynamicBatcherTest.await(model.entered);
        clock.advance(TIMEOUT);
        assertTrue(caller.await(hung).timedOut());
        String stuck = model.thread.get();
        ModelCaller.Attempt next = caller.await(caller.start(new TrackedBatch(List.of(row(2, 2)))));
        assertTrue(next.succeeded());
        assertNotEquals(stuck, model.thread.get());
        assertEquals(2, runners.get());
    }

    @Test
    void aCallAbandonedBeforeItsThreadTookItLetsItsInputAndReferenceGoAtOnce() throws Throwable {
        // A run thread still busy (on a loaded machine: not yet scheduled) when the batch timeout passes.
        CountDownLatch busy = new CountDownLatch(1);
        ExecutorService occupied = Executors.newSingleThreadExecutor(DaemonThreads.named("occupied"));
        occupied.execute(() -> DynamicBatcherTest.await(busy));
        AtomicInteger made = new AtomicInteger();
        ModelCaller queued = new ModelCaller(model, "test", TIMEOUT, new EngineStats(), references, clock,
                () -> made.getAndIncrement() == 0 ? occupied : Executors.newSingleThreadExecutor(DaemonThreads.named("fresh")));
        TrackedBatch input = new TrackedBatch(List.of(row(1, 2)));
        ModelCaller.Call call = queued.start(input);
        assertEquals(2, references.count(), "the queued call holds a reference");
        clock.advance(TIMEOUT);
        assertTrue(queued.await(call).timedOut());
        assertEquals(1, input.closes.get(), "its input closed: it will never run");
        assertEquals(1, references.count(), "its reference released: the natives can close");
        assertTrue(call.result().isCompletedExceptionally());
        assertEquals(null, model.thread.get(), "never ran");
        busy.countDown();
        queued.shutdown();
    }

    @Test
    void aCallOnNativesAlreadyClosedNeverRuns() throws Throwable {
        references.releaseOwner();
        TrackedBatch input = new TrackedBatch(List.of(row(1, 2)));
        ModelCaller.Attempt attempt = caller.await(caller.start(input));
        assertInstanceOf(ModelUnavailableException.class, attempt.failure());
        assertEquals(1, input.closes.get());
        assertEquals(null, model.thread.get(), "never ran");
    }

    @Test
    void anErrorOtherThanOutOfMemoryIsRethrownForTheLoopToDieOf() {
        RowModel broken = new RowModel() {
            @Override
            public float[][] run(List<Encoded> rows) {
                throw new LinkageError("injected: the native library is broken");
            }

            @Override
            public void close() {
            }
        };
        ExecutorService runner = Executors.newSingleThreadExecutor();
        ModelCaller brokenCaller = new ModelCaller(broken, "broken", TIMEOUT, new EngineStats(), new ModelReferences("broken", broken),
                clock, () -> runner);
        assertThrows(LinkageError.class, () -> brokenCaller.attempt(List.of(row(1, 2))));
        runner.shutdown();
    }
}
