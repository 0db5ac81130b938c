package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A fake device fault around the real ONNX session, for tests of the whole pipeline (in this package
 * because the engine's row model is package-private): what a CUDA fault or a hung GPU does, which a CPU
 * cannot be made to do.
 */
public final class FaultyModels {

    /** What the model does next; set by the test. */
    public static final class Faults {
        /** Every call fails, as after "CUDA error: an illegal memory access" until the device is reset. */
        public volatile boolean failing;
        /** The next call hangs until the engine gives up on it (its batch timeout cancels it). */
        public volatile boolean hangNext;
        /** Calls that failed, calls that hung and were cancelled. */
        public final AtomicInteger failed = new AtomicInteger();
        public final AtomicInteger cancelledHangs = new AtomicInteger();
        public final AtomicInteger hangsStarted = new AtomicInteger();
        /** How long each hung call hung, in ms, however it ended (cancelled, or its thread interrupted). */
        public final java.util.List<Long> hangMillis = new java.util.concurrent.CopyOnWriteArrayList<>();
    }

    private FaultyModels() {
    }

    /** Opens each model as ModelRegistry does, with its row model behind {@code faults}. */
    public static Function<ModelRegistry.Served, Scorer> loader(Faults faults) {
        return served -> Scorers.open(ModelDirectory.load(served.dir()), served.options(), real -> new Faulty(real, faults));
    }

    private static final class Faulty implements RowModel {
        private final RowModel real;
        private final Faults faults;
        private volatile CountDownLatch hanging;

        Faulty(RowModel real, Faults faults) {
            this.real = real;
            this.faults = faults;
        }

        @Override
        public float[][] run(List<Encoded> rows) {
            if (faults.failing) {
                faults.failed.incrementAndGet();
                throw new InferenceException("injected: CUDA error: an illegal memory access was encountered", new RuntimeException());
            }
            if (faults.hangNext) {
                faults.hangNext = false;
                CountDownLatch latch = new CountDownLatch(1);
                hanging = latch;
                faults.hangsStarted.incrementAndGet();
                long start = System.nanoTime();
                try {
                    // Bounded only so that a broken engine cannot hang the build; the engine's timeout is far shorter.
                    if (latch.await(300, TimeUnit.SECONDS)) {
                        faults.cancelledHangs.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    faults.hangMillis.add((System.nanoTime() - start) / 1_000_000);
                }
                throw new InferenceException("injected hang: terminated by RunOptions", new RuntimeException());
            }
            return real.run(rows);
        }

        @Override
        public void cancelRunning() {
            CountDownLatch latch = hanging;
            if (latch != null) {
                latch.countDown();
            }
            real.cancelRunning();
        }

        @Override
        public void close() {
            real.close();
        }
    }
}
