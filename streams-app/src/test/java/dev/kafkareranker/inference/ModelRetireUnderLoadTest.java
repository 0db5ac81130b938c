package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.serving.ModelSlot;
import dev.kafkareranker.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Acceptance: versions of a model are retired again and again while queries stream through them, and each
 * retired version still has a tokenizer task and a model call in flight when its last query's future ends
 * (revoked: cancelled; timed out; or its call abandoned at the batch timeout, on a clock the test makes
 * jump). Real ONNX Runtime sessions
 * and real tokenizers (the BERT fixture). Each held call enters the real tokenizer or the real
 * {@code session.run} only after its version was closed, so a version that freed its natives early would
 * throw "closed" or crash the JVM here. Every query must be answered exactly once: scored with the model's
 * scores, or failed with a defined exception.
 */
class ModelRetireUnderLoadTest {

    private static final ModelSpec SPEC = ModelDirectory.load(Path.of("..", "tools", "fixtures", "bert-cross-encoder"));
    private static final String QUERY = "what is kafka streams";
    private static final List<String> PASSAGES = List.of("Kafka Streams is a client library.", "Bananas are yellow.",
            "A stream processor.", "Exactly-once processing with transactions.");
    private static final int SWAPS = 50;
    /** Short, so that a version's queries end by timing out within the test; long enough for a warm-up on a loaded machine. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(500);
    private static final Duration LONG = Duration.ofSeconds(60);

    /** How the last queries of a retired version end while its calls are held. */
    private enum Ending { REVOKED, REQUEST_TIMEOUT, CALL_ABANDONED }

    /**
     * Holds the next tokenizer call and the next model call of one version, when armed, before they enter the
     * real tokenizer and session; it passes everything else straight through. It records whether its
     * natives were closed while any call was inside them.
     */
    private static final class HeldCalls {
        final CountDownLatch encodeHeld = new CountDownLatch(1);
        final CountDownLatch runHeld = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicBoolean holdEncode = new AtomicBoolean();
        final AtomicBoolean holdRun = new AtomicBoolean();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicBoolean closedUnderACall = new AtomicBoolean();
        volatile InferenceEngine engine;
        final JumpingClock clock = new JumpingClock();
        final AtomicInteger entersAfterClose = new AtomicInteger();

        void arm() {
            holdEncode.set(true);
            holdRun.set(true);
        }

        private void maybeHold(AtomicBoolean hold, CountDownLatch held) {
            if (hold.compareAndSet(true, false)) {
                held.countDown();
                awaitUninterruptibly(release);
                if (engine.health().state() == ModelHealth.State.DEAD) {
                    entersAfterClose.incrementAndGet();
                }
            }
        }

        /** As a native call: an abandoned call's thread is interrupted, and that does not stop it. */
        private static void awaitUninterruptibly(CountDownLatch latch) {
            boolean interrupted = false;
            while (latch.getCount() > 0) {
                try {
                    latch.await(Await.HANG.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        <T> T inside(java.util.function.Supplier<T> call) {
            inside.incrementAndGet();
            try {
                if (closed.get()) {
                    closedUnderACall.set(true);
                }
                return call.get();
            } finally {
                inside.decrementAndGet();
            }
        }

        ScoringMethod method(ScoringMethod real) {
            return new ScoringMethod() {
                @Override
                public EncodedRequest encode(String query, List<String> passages) {
                    maybeHold(holdEncode, encodeHeld);
                    return inside(() -> real.encode(query, passages));
                }

                @Override
                public List<Score> finish(EncodedRequest request, float[][] rowOutputs) {
                    return real.finish(request, rowOutputs);
                }
            };
        }

        RowModel model(RowModel real) {
            return new RowModel() {
                @Override
                public float[][] run(List<Encoded> rows) {
                    maybeHold(holdRun, runHeld);
                    return inside(() -> real.run(rows));
                }

                @Override
                public Batch prepare(List<Encoded> rows) {
                    return real.prepare(rows);
                }

                @Override
                public float[][] run(Batch batch) {
                    maybeHold(holdRun, runHeld);
                    return inside(() -> real.run(batch));
                }

                @Override
                public void cancelRunning() {
                    // A held call ignores it, as a kernel stuck in the driver does; the real one is asked anyway.
                    real.cancelRunning();
                }

                @Override
                public void close() {
                    closed.set(true);
                    if (inside.get() > 0) {
                        closedUnderACall.set(true);
                    }
                    real.close();
                }
            };
        }
    }

    /** Every query handed to the slot, with the swap it was sent before, and how it ended (counted per ending). */
    private record Sent(int epoch, CompletableFuture<Scorer.Scoring> future, AtomicInteger endings) {}

    /** Closed-object failures (ONNX Runtime's "closed OrtSession/OnnxValue/RunOptions", DJL's "released already") anywhere in the log. */
    private static final class ClosedObjectLog extends AppenderBase<ILoggingEvent> {
        final List<String> seen = new CopyOnWriteArrayList<>();

        static boolean closedObject(String text) {
            return text != null && (text.contains("closed OrtSession") || text.contains("closed OnnxValue") || text.contains("closed RunOptions")
                    || text.contains("closed tensor") || text.contains("closed OrtAllocator") || text.contains("released already"));
        }

        @Override
        protected void append(ILoggingEvent event) {
            if (closedObject(event.getFormattedMessage())) {
                seen.add(event.getFormattedMessage());
            }
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                if (closedObject(t.getMessage())) {
                    seen.add(t.getClassName() + ": " + t.getMessage());
                }
            }
        }
    }

    private static final class ClosedObjectJulLog extends Handler {
        final List<String> seen = new CopyOnWriteArrayList<>();

        @Override
        public void publish(LogRecord record) {
            if (ClosedObjectLog.closedObject(record.getMessage())
                    || (record.getThrown() != null && ClosedObjectLog.closedObject(record.getThrown().getMessage()))) {
                seen.add(record.getLoggerName() + ": " + record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /** The batch timeout passes only when the test makes the clock jump; the request timeout is real and short only where it is the ending. */
    private static InferenceEngine open(Ending ending, HeldCalls held) {
        Duration requestTimeout = ending == Ending.REQUEST_TIMEOUT ? REQUEST_TIMEOUT : LONG;
        InferenceOptions options = InferenceOptions.defaults().withDevice(Device.parse("cpu")).withTokenizerThreads(2)
                .withHealth(new InferenceOptions.Health(LONG, requestTimeout, 1_000, Duration.ofSeconds(1)));
        InferenceEngine engine = Scorers.open(SPEC, options, held::model, held::method, held.clock);
        held.engine = engine;
        return engine;
    }

    /**
     * Makes a new version current. Its warm-up query may time out on a loaded machine (a version whose request
     * timeout is short): the slot then closes it and keeps the current one, as it would in production, and
     * another copy is loaded.
     */
    private static HeldCalls swapIn(ModelSlot slot, Ending ending, List<InferenceEngine> engines) {
        for (int attempt = 1; ; attempt++) {
            HeldCalls next = new HeldCalls();
            InferenceEngine engine = open(ending, next);
            try {
                slot.swap(() -> engine);
                engines.add(engine);
                return next;
            } catch (ModelUnavailableException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    @Test
    void versionsRetiredWhileTheirTokenizerAndSessionCallsRunCloseOnlyAfterThemAndEveryQueryIsAnsweredOnce() throws Exception {
        List<Score> reference;
        try (InferenceEngine plain = Scorers.open(SPEC, InferenceOptions.defaults().withDevice(Device.parse("cpu")))) {
            reference = plain.score(QUERY, PASSAGES);
        }
        ClosedObjectLog log = new ClosedObjectLog();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        ClosedObjectJulLog julLog = new ClosedObjectJulLog();
        java.util.logging.Logger.getLogger("").addHandler(julLog);

        List<HeldCalls> versions = new ArrayList<>();
        List<InferenceEngine> engines = new ArrayList<>();
        List<Sent> sent = new CopyOnWriteArrayList<>();
        AtomicInteger epoch = new AtomicInteger();
        AtomicBoolean streaming = new AtomicBoolean(true);
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        HeldCalls first = new HeldCalls();
        versions.add(first);
        engines.add(open(Ending.REVOKED, first));
        try (ModelSlot slot = new ModelSlot("ranker", engines.get(0))) {
            // Two callers stream queries through the slot as stream threads do, a few in flight each.
            List<Thread> callers = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                Random random = new Random(c);
                Thread caller = new Thread(() -> {
                    List<CompletableFuture<?>> mine = new ArrayList<>();
                    while (streaming.get()) {
                        mine.removeIf(CompletableFuture::isDone);
                        if (mine.size() >= 4) {
                            CompletableFuture.anyOf(mine.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
                            continue;
                        }
                        mine.add(send(slot, sent, epoch.get(), PASSAGES.subList(0, 1 + random.nextInt(PASSAGES.size())), reference, outcomes));
                    }
                }, "caller-" + c);
                callers.add(caller);
                caller.start();
            }

            for (int swap = 0; swap < SWAPS; swap++) {
                HeldCalls current = versions.get(swap);
                InferenceEngine retired = engines.get(swap);
                Ending ending = Ending.values()[swap % Ending.values().length];

                // A tokenizer task and a model call of the current version are held before entering the natives.
                current.arm();
                send(slot, sent, epoch.get(), PASSAGES, reference, outcomes);
                DynamicBatcherTest.await(current.encodeHeld);
                DynamicBatcherTest.await(current.runHeld);

                versions.add(swapIn(slot, Ending.values()[(swap + 1) % Ending.values().length], engines));
                int retiredEpoch = epoch.getAndIncrement();
                if (ending == Ending.CALL_ABANDONED) {
                    // The held call runs past the batch timeout: abandoned, its batch's queries fail, the call goes on.
                    long failedBefore = retired.stats().failedBatches();
                    current.clock.jump(LONG);
                    Await.until(() -> retired.stats().failedBatches() > failedBefore, "the held call was abandoned");
                }
                if (ending != Ending.REQUEST_TIMEOUT) {
                    // A revoked task cancels its queries in flight.
                    for (Sent s : sent) {
                        if (s.epoch() <= retiredEpoch) {
                            s.future().cancel(false);
                        }
                    }
                }
                // The version's last queries end (cancelled, timed out, or their batch abandoned) and the slot closes it.
                Await.until(() -> sent.stream().filter(s -> s.epoch() <= retiredEpoch).allMatch(s -> s.future().isDone()),
                        () -> ending + ": every query sent to version " + retiredEpoch + " ended");
                Await.until(() -> retired.health().state() == ModelHealth.State.DEAD, () -> ending + ": version " + retiredEpoch
                        + " closed by its last lease: " + retired.health());
                assertTrue(retired.nativeReferences() >= 2, ending + ": the held calls still hold its natives: " + retired.nativeReferences());
                // Now the held calls go into the real tokenizer and session of the closed version.
                current.release.countDown();
            }
            streaming.set(false);
            for (Thread caller : callers) {
                caller.join(Await.HANG.toMillis());
            }
            Await.until(() -> sent.stream().allMatch(s -> s.future().isDone()), "every query ended");
            for (int v = 0; v < SWAPS; v++) {
                InferenceEngine engine = engines.get(v);
                int version = v;
                Await.until(() -> engine.nativeReferences() == 0, () -> "version " + version + "'s natives closed once its calls returned: "
                        + engine.nativeReferences() + " references left");
            }
        } finally {
            root.detachAppender(log);
            java.util.logging.Logger.getLogger("").removeHandler(julLog);
            versions.forEach(v -> v.release.countDown());
        }

        for (int v = 0; v < SWAPS; v++) {
            HeldCalls version = versions.get(v);
            assertTrue(version.closed.get(), "version " + v + " was closed");
            assertFalse(version.closedUnderACall.get(), "version " + v + "'s natives were closed while a call was inside them");
            assertEquals(2, version.entersAfterClose.get(), "version " + v + ": its held tokenizer call and model call entered the "
                    + "natives after it was closed");
        }
        for (Sent s : sent) {
            assertEquals(1, s.endings().get(), "a query answered once");
        }
        System.out.printf("model retire under load: %d swaps, %d queries, outcomes %s%n", SWAPS, sent.size(), outcomes);
        assertTrue(outcomes.getOrDefault("scored", new AtomicInteger()).get() > 0, outcomes.toString());
        assertTrue(outcomes.keySet().stream().allMatch(k -> k.equals("scored") || k.equals("cancelled") || k.equals("ModelUnavailableException")
                || k.equals("InferenceTimeoutException")), "only defined outcomes: " + outcomes);
        assertEquals(List.of(), log.seen, "closed-object failures in the log");
        assertEquals(List.of(), julLog.seen, "closed-object failures in ONNX Runtime's log");
    }

    /** Sends one query through the slot and records how it ends: scored (with the model's scores) or failed, and what with. */
    private static CompletableFuture<Scorer.Scoring> send(ModelSlot slot, List<Sent> sent, int epoch, List<String> passages,
                                                          List<Score> reference, Map<String, AtomicInteger> outcomes) {
        CompletableFuture<Scorer.Scoring> future = slot.scoreQueryAsync(QUERY, passages);
        Sent s = new Sent(epoch, future, new AtomicInteger());
        sent.add(s);
        future.whenComplete((scoring, failure) -> {
            s.endings().incrementAndGet();
            String outcome;
            if (failure == null) {
                outcome = "scored";
                for (int i = 0; i < passages.size(); i++) {
                    if (Math.abs(scoring.scores().get(i).score() - reference.get(i).score()) > 1e-6) {
                        outcome = "wrong scores: passage " + i + " scored " + scoring.scores().get(i) + ", not " + reference.get(i);
                    }
                }
            } else {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
                outcome = cause instanceof CancellationException ? "cancelled" : cause.getClass().getSimpleName();
            }
            outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
        });
        return future;
    }
}
