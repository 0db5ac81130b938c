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

    private final LoadedModel loaded;

    private RawRunner(LoadedModel loaded) {
        this.loaded = loaded;
    }

    /** The same session, tokenizer and scoring method the engine would open; a failure part-way closes what opened. */
    public static RawRunner open(ModelSpec spec, InferenceOptions options) {
        return new RawRunner(LoadedModel.open(spec, options));
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
            all.addAll(loaded.method().encode(r.query(), r.passages()).rows());
        }
        int[] lengths = all.stream().mapToInt(Encoded::length).toArray();
        List<List<Encoded>> batches = new ArrayList<>();
        long real = 0;
        long padded = 0;
        for (int[] plan : Scorers.sizer(loaded).plan(lengths)) {
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
            loaded.rowModel().run(batch);
        }
        return System.nanoTime() - start;
    }

    /** Tokenizing alone: every request's rows, as the engine would make them. */
    public record Tokenized(long nanos, long tokens) {}

    /**
     * Tokenizes every request on {@code threads} threads (each takes the next request), as the engine's
     * tokenizer pool does; nothing else runs. The tokenizer's ceiling for the same pairs and cores.
     */
    public Tokenized tokenize(List<Request> requests, int threads) throws InterruptedException {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong tokens = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure = new java.util.concurrent.atomic.AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    for (int i = next.getAndIncrement(); i < requests.size(); i = next.getAndIncrement()) {
                        long sum = 0;
                        for (Encoded e : loaded.method().encode(requests.get(i).query(), requests.get(i).passages()).rows()) {
                            sum += e.length();
                        }
                        tokens.addAndGet(sum);
                    }
                } catch (RuntimeException e) {
                    failure.set(e);
                }
            }, "bench-tokenize-" + t);
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return new Tokenized(System.nanoTime() - start, tokens.get());
    }

    /** Each request's logits (the label's), in passage order: to compare the rankings of two variants. */
    public List<double[]> logits(List<Request> requests) {
        List<double[]> out = new ArrayList<>(requests.size());
        for (Request r : requests) {
            EncodedRequest request = loaded.method().encode(r.query(), r.passages());
            List<Encoded> rows = request.rows();
            int[] lengths = rows.stream().mapToInt(Encoded::length).toArray();
            float[][] outputs = new float[rows.size()][];
            for (int[] plan : Scorers.sizer(loaded).plan(lengths)) {
                List<Encoded> batch = new ArrayList<>(plan.length);
                for (int i : plan) {
                    batch.add(rows.get(i));
                }
                float[][] result = loaded.rowModel().run(batch);
                for (int k = 0; k < plan.length; k++) {
                    outputs[plan[k]] = result[k];
                }
            }
            List<Score> scores = loaded.method().finish(request, outputs);
            out.add(scores.stream().mapToDouble(Score::logit).toArray());
        }
        return out;
    }

    public String executionProvider() {
        return loaded.executionProvider();
    }

    public ModelSpec spec() {
        return loaded.spec();
    }

    /** Single-threaded, and every call has returned by the time a caller closes it. */
    @Override
    public void close() {
        loaded.close();
    }
}
