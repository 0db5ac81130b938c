package dev.kafkareranker.bench;

import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.RawRunner;
import dev.kafkareranker.model.ModelSpec;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** (a): raw ONNX Runtime on ideal pre-tokenized batches, the ceiling every other phase is compared with. */
final class RawPhase {

    private RawPhase() {
    }

    static Phase measure(PrintStream out, ModelSpec spec, InferenceOptions options, Workload workload) {
        try (RawRunner runner = RawRunner.open(spec, options)) {
            List<RawRunner.Request> requests = workload.requests();
            RawRunner.Prepared prepared = runner.prepare(requests);
            // A whole untimed pass first: every batch shape is new to ONNX Runtime's allocator once.
            long firstPass = runner.run(prepared);
            long nanos = runner.run(prepared);
            out.printf(Locale.ROOT, "bench: (a) raw warm-up pass %.1f pairs/s%n", workload.pairs() / (firstPass / 1e9));
            out.printf(Locale.ROOT, "bench: (a) raw ONNX Runtime done: %.1f pairs/s%n", workload.pairs() / (nanos / 1e9));
            return new Phase("raw", workload.pairs(), prepared.realTokens(), nanos,
                    (double) prepared.paddedTokens() / prepared.realTokens(), prepared.batchRows(), runner.executionProvider());
        }
    }
}
