package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Faults injected around a model's real ONNX session and tokenizer, per model, for tests of what a stage's
 * failure does to its queries (in this package because the engine's row model and method are package-private).
 * A device fault ({@link #deviceFailing}: every model call fails, as a CUDA error does until the device is
 * reset) is what a CPU cannot be made to do; a query's own rows failing ({@link #poison}) stands for a row
 * whose output is not finite, which a healthy fixture never gives.
 */
public final class FakeDeviceFaults {

    /** Every model call fails while set: the probe fails too, so the engine blames the model (transient). */
    public volatile boolean deviceFailing;
    /** A passage containing this fails its query's rows alone (permanent for that query); null: none. */
    public volatile String poison;
    /** Model calls that failed, and requests refused for the poison. */
    public final AtomicInteger failedCalls = new AtomicInteger();
    public final AtomicInteger poisonedRequests = new AtomicInteger();

    /** Opens each served model as ModelRegistry does (its directory with the app's overrides), behind its faults, if any. */
    public static Function<ModelRegistry.Served, Scorer> loader(Map<String, FakeDeviceFaults> byModel) {
        return served -> {
            FakeDeviceFaults faults = byModel.get(served.name());
            if (faults == null) {
                return ModelRegistry.load(served);
            }
            return Scorers.open(ModelDirectory.load(served.dir(), served.overrides()), served.options(),
                    real -> new FailingCalls(real, faults), real -> new PoisonedPassages(real, faults));
        };
    }

    private record FailingCalls(RowModel real, FakeDeviceFaults faults) implements RowModel {
        @Override
        public float[][] run(List<Encoded> rows) {
            if (faults.deviceFailing) {
                faults.failedCalls.incrementAndGet();
                throw new InferenceException("injected: CUDA error: an illegal memory access was encountered", new RuntimeException());
            }
            return real.run(rows);
        }

        @Override
        public void cancelRunning() {
            real.cancelRunning();
        }

        @Override
        public void close() {
            real.close();
        }
    }

    private record PoisonedPassages(ScoringMethod real, FakeDeviceFaults faults) implements ScoringMethod {
        @Override
        public EncodedRequest encode(String query, List<String> passages) {
            String poison = faults.poison;
            if (poison != null && passages.stream().anyMatch(p -> p.contains(poison))) {
                faults.poisonedRequests.incrementAndGet();
                throw new InferenceException("injected: a row of this query gave a non-finite output");
            }
            return real.encode(query, passages);
        }

        @Override
        public List<Score> finish(EncodedRequest request, float[][] rowOutputs) {
            return real.finish(request, rowOutputs);
        }
    }
}
