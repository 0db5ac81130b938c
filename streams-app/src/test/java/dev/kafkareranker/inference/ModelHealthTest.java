package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The engine on a real ONNX Runtime session and tokenizer (the BERT cross-encoder fixture), with a
 * fault-injecting fake between the batcher and the session for the faults a CPU session cannot be made
 * to have: a device that fails every call, hangs, or returns NaN.
 */
class ModelHealthTest {

    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
    private static final String QUERY = "what is kafka streams";
    private static final List<String> PASSAGES = List.of("Kafka Streams is a client library.", "Bananas are yellow.",
            "A stream processor.");

    /** Passes calls to the real session unless told to fail them, hang, or poison the first row of bigger batches. */
    static final class FaultInjectingRowModel implements RowModel {
        final RowModel real;
        volatile boolean failing;
        volatile boolean hangNext;
        volatile boolean nanFirstRowOfMultiRowBatches;
        volatile CountDownLatch gate;
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch terminated = new CountDownLatch(1);
        final AtomicInteger rowsRun = new AtomicInteger();

        FaultInjectingRowModel(RowModel real) {
            this.real = real;
        }

        @Override
        public float[][] run(List<Encoded> rows) {
            entered.countDown();
            CountDownLatch g = gate;
            if (g != null) {
                await(g);
            }
            if (failing) {
                throw new InferenceException("injected: CUDA error: an illegal memory access was encountered", new RuntimeException());
            }
            if (hangNext) {
                hangNext = false;
                await(terminated);
                throw new InferenceException("terminated by RunOptions", new RuntimeException());
            }
            float[][] out = real.run(rows);
            rowsRun.addAndGet(rows.size());
            if (nanFirstRowOfMultiRowBatches && rows.size() > 1) {
                out[0][0] = Float.NaN;
            }
            return out;
        }

        private static void await(CountDownLatch latch) {
            try {
                // Bounded only so that a broken test cannot hang the build.
                latch.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void cancelRunning() {
            terminated.countDown();
            real.cancelRunning();
        }

        @Override
        public void close() {
            real.close();
        }
    }

    private static InferenceOptions cpu(Duration batchTimeout, int failures, Duration backoff) {
        return InferenceOptions.defaults().withDevice(Device.parse("cpu"))
                .withHealth(new InferenceOptions.Health(batchTimeout, Duration.ofSeconds(120), failures, backoff));
    }

    private static ModelSpec spec() {
        return ModelDirectory.load(FIXTURE);
    }

    @Test
    void aPersistentModelFaultOpensTheBreakerAndScoringResumesWithTheSameScoresWhenItClears() throws Exception {
        FaultInjectingRowModel[] fake = new FaultInjectingRowModel[1];
        try (InferenceEngine engine = Scorers.open(spec(), cpu(Duration.ofSeconds(30), 3, Duration.ofMillis(300)),
                real -> fake[0] = new FaultInjectingRowModel(real))) {
            List<Score> before = engine.score(QUERY, PASSAGES);
            fake[0].failing = true;
            for (int i = 0; i < 3; i++) {
                InferenceException e = assertThrows(InferenceException.class, () -> engine.score(QUERY, PASSAGES));
                assertInstanceOf(ModelUnavailableException.class, e, "a model fault is transient: " + e);
            }
            assertFalse(engine.accepting(), "three faults in a row open the breaker");
            assertEquals(ModelHealth.State.UNAVAILABLE, engine.health().state());
            assertTrue(engine.health().reason().contains("illegal memory access"), engine.health().reason());
            CompletableFuture<Scorer.Scoring> refused = engine.scoreQueryAsync(QUERY, PASSAGES);
            assertTrue(refused.isCompletedExceptionally(), "refused at once while open");

            fake[0].failing = false;
            Await.until(engine::accepting, () -> "the engine's own probe closed the breaker: " + engine.health());
            List<Score> after = engine.score(QUERY, PASSAGES);
            for (int i = 0; i < PASSAGES.size(); i++) {
                assertEquals(before.get(i).score(), after.get(i).score(), 1e-6, "same session, same input, same score");
            }
        }
    }

    @Test
    void aHungModelCallEndsInTheTimeoutNotAStuckThread() throws Exception {
        FaultInjectingRowModel[] fake = new FaultInjectingRowModel[1];
        try (InferenceEngine engine = Scorers.open(spec(), cpu(Duration.ofSeconds(2), 3, Duration.ofSeconds(5)),
                real -> fake[0] = new FaultInjectingRowModel(real))) {
            fake[0].hangNext = true;
            CompletableFuture<Scorer.Scoring> hung = engine.scoreQueryAsync(QUERY, PASSAGES);
            ExecutionException e = assertThrows(ExecutionException.class, () -> hung.get(60, TimeUnit.SECONDS));
            assertInstanceOf(InferenceTimeoutException.class, e.getCause());
            assertTrue(fake[0].terminated.await(30, TimeUnit.SECONDS), "the hung call was told to terminate");
            assertEquals(PASSAGES.size(), engine.score(QUERY, PASSAGES).size(), "the engine scores again");
        }
    }

    @Test
    void aNaNLogitFailsItsQueryAndIsNeverRanked() throws Exception {
        FaultInjectingRowModel[] fake = new FaultInjectingRowModel[1];
        try (InferenceEngine engine = Scorers.open(spec(), cpu(Duration.ofSeconds(30), 3, Duration.ofSeconds(5)),
                real -> fake[0] = new FaultInjectingRowModel(real))) {
            fake[0].nanFirstRowOfMultiRowBatches = true;
            InferenceException e = assertThrows(InferenceException.class, () -> engine.score(QUERY, PASSAGES));
            assertInstanceOf(NonFiniteScoreException.class, e);
            assertTrue(engine.accepting(), "the probe scores finely: the row is at fault, not the model");
            assertEquals(1, engine.score(QUERY, List.of(PASSAGES.get(0))).size());
        }
    }

    @Test
    void aCancelledRequestsRowsAreNotRun() throws Exception {
        FaultInjectingRowModel[] fake = new FaultInjectingRowModel[1];
        try (InferenceEngine engine = Scorers.open(spec(), cpu(Duration.ofSeconds(60), 3, Duration.ofSeconds(5)),
                real -> fake[0] = new FaultInjectingRowModel(real))) {
            CountDownLatch gate = new CountDownLatch(1);
            fake[0].gate = gate;
            CompletableFuture<Scorer.Scoring> running = engine.scoreQueryAsync(QUERY, PASSAGES);
            assertTrue(fake[0].entered.await(30, TimeUnit.SECONDS));
            // Queued behind the running batch, then cancelled, as a revoked task's in-flight queries are.
            CompletableFuture<Scorer.Scoring> revoked = engine.scoreQueryAsync(QUERY, List.of("one", "two", "three", "four"));
            assertTrue(revoked.cancel(true));
            fake[0].gate = null;
            gate.countDown();
            assertEquals(PASSAGES.size(), running.get(60, TimeUnit.SECONDS).scores().size());
            assertEquals(PASSAGES.size(), engine.score(QUERY, PASSAGES).size());
            assertEquals(2 * PASSAGES.size(), fake[0].rowsRun.get(), "the cancelled request's 4 rows never ran");
        }
    }

    @Test
    void theLastLeaseOfARetiredVersionEndingOnItsOwnWorkerDoesNotHoldTheQuery() throws Exception {
        FaultInjectingRowModel[] fake = new FaultInjectingRowModel[1];
        InferenceOptions options = cpu(Duration.ofSeconds(60), 3, Duration.ofSeconds(5));
        InferenceEngine v1 = Scorers.open(spec(), options, real -> fake[0] = new FaultInjectingRowModel(real));
        try (dev.kafkareranker.serving.ModelSlot slot = new dev.kafkareranker.serving.ModelSlot("ranker", v1)) {
            CountDownLatch gate = new CountDownLatch(1);
            fake[0].gate = gate;
            CompletableFuture<Scorer.Scoring> inFlight = slot.scoreQueryAsync(QUERY, PASSAGES);
            assertTrue(fake[0].entered.await(30, TimeUnit.SECONDS));
            slot.swap(() -> Scorers.open(spec(), options));
            gate.countDown();
            // The old engine used to be closed on its own worker, which then joined itself for 30 s while this query waited.
            Scorer.Scoring scoring = inFlight.get(20, TimeUnit.SECONDS);
            assertEquals(PASSAGES.size(), scoring.scores().size());
            Await.until(() -> v1.health().state() == ModelHealth.State.DEAD, () -> "the retired version was closed, on a thread of "
                    + "its own: " + v1.health());
            Await.until(() -> v1.nativeReferences() == 0, () -> "its session and tokenizer closed once its worker ended: "
                    + v1.nativeReferences() + " references");
            assertTrue(slot.accepting(), "the new version serves");
        }
    }
}
