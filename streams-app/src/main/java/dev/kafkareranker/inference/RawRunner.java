package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark's baseline: rows tokenized ahead of time, sorted by length across all requests and
 * planned into ideal batches, then run straight through the session with nothing else in the way.
 * What the engine and the pipeline achieve is measured against this.
 */
public final class RawRunner implements AutoCloseable {

    private final ModelSpec spec;
    private final InferenceOptions options;
    private final OnnxRowModel model;
    private final ScoringMethod method;
    private final TextEncoder encoder;

    private RawRunner(ModelSpec spec, InferenceOptions options, OnnxRowModel model, ScoringMethod method, TextEncoder encoder) {
        this.spec = spec;
        this.options = options;
        this.model = model;
        this.method = method;
        this.encoder = encoder;
    }

    public static RawRunner open(ModelSpec spec, InferenceOptions options) {
        UsageTracking.optOut();
        OnnxModel model = OnnxModel.open(spec, options);
        ModelInputs.check(model);
        TextEncoder encoder = new TextEncoder(spec);
        ScoringMethod method = Scorers.method(spec, encoder);
        return new RawRunner(spec, options.forProvider(model.executionProvider()), new OnnxRowModel(spec, model), method, encoder);
    }

    /** A query and its passages. */
    public record Request(String query, List<String> passages) {}

    /** Tokenized rows in planned batches; the rows themselves stay inside this package. */
    public static final class Prepared {
        private final List<List<Encoded>> batches;
        private final long realTokens;
        private final long paddedTokens;

        Prepared(List<List<Encoded>> batches, long realTokens, long paddedTokens) {
            this.batches = batches;
            this.realTokens = realTokens;
            this.paddedTokens = paddedTokens;
        }

        /** Tokens the rows hold. */
        public long realTokens() {
            return realTokens;
        }

        /** Tokens the model computes: rows × padded width, summed over batches. */
        public long paddedTokens() {
            return paddedTokens;
        }

        /** How many batches have each row count. */
        public java.util.Map<Integer, Long> batchRows() {
            java.util.Map<Integer, Long> histogram = new java.util.TreeMap<>();
            batches.forEach(b -> histogram.merge(b.size(), 1L, Long::sum));
            return histogram;
        }
    }

    public Prepared prepare(List<Request> requests) {
        List<Encoded> all = new ArrayList<>();
        for (Request r : requests) {
            all.addAll(method.encode(r.query(), r.passages()));
        }
        int[] lengths = all.stream().mapToInt(Encoded::length).toArray();
        List<List<Encoded>> batches = new ArrayList<>();
        long real = 0;
        long padded = 0;
        for (int[] plan : BatchPlanner.plan(lengths, options.maxBatchRows(), options.maxBatchTokens(), options.maxPaddingRatio())) {
            List<Encoded> batch = new ArrayList<>(plan.length);
            int width = 0;
            for (int i : plan) {
                batch.add(all.get(i));
                real += lengths[i];
                width = Math.max(width, lengths[i]);
            }
            padded += (long) width * plan.length;
            batches.add(batch);
        }
        return new Prepared(batches, real, padded);
    }

    /** Runs every batch; returns the wall time in nanoseconds. */
    public long run(Prepared prepared) {
        long start = System.nanoTime();
        for (List<Encoded> batch : prepared.batches) {
            model.run(batch);
        }
        return System.nanoTime() - start;
    }

    public String executionProvider() {
        return model.executionProvider();
    }

    public ModelSpec spec() {
        return spec;
    }

    @Override
    public void close() {
        model.close();
        encoder.close();
    }
}
