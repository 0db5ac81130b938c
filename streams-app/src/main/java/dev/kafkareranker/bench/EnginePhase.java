package dev.kafkareranker.bench;

import dev.kafkareranker.inference.EngineStats;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelSpec;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** (b) the inference engine alone, fed by several threads; (e)'s engine half with the near-zero-cost model. */
final class EnginePhase {

    private EnginePhase() {
    }

    static Phase measure(PrintStream out, ModelSpec spec, InferenceOptions options, Workload workload, int threads, String name)
            throws Exception {
        try (InferenceEngine engine = Scorers.open(spec, options)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                // An untimed pass first, as the pipeline phases have: the JIT compiles the engine's paths.
                scoreAll(engine, workload, threads, pool);
                EngineStats.Snapshot before = engine.stats();
                long start = System.nanoTime();
                scoreAll(engine, workload, threads, pool);
                long nanos = System.nanoTime() - start;
                EngineStats.Snapshot stats = engine.stats().minus(before);
                out.printf(Locale.ROOT, "bench: (%s) %s alone done: %.1f pairs/s%n", name.equals("engine") ? "b" : "e", name,
                        workload.pairs() / (nanos / 1e9));
                return new Phase(name, workload.pairs(), stats.realTokens(), nanos, stats.paddingRatio(), stats.batchRows(),
                        engine.executionProvider());
            } finally {
                pool.shutdown();
            }
        }
    }

    /** Every query of the workload through {@code engine}, from {@code threads} callers. */
    private static void scoreAll(InferenceEngine engine, Workload workload, int threads, ExecutorService pool) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < workload.queries().size(); i = next.getAndIncrement()) {
                    Workload.Query q = workload.queries().get(i);
                    engine.score(q.text(), q.passages());
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
    }
}
