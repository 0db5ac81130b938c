package dev.kafkareranker.bench;

import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.RawRunner;
import dev.kafkareranker.model.ModelSpec;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** (t): the tokenizer alone, on the same pairs, one thread per core: what feeding the model can cost at least. */
final class TokenizerPhase {

    private TokenizerPhase() {
    }

    static Phase measure(PrintStream out, ModelSpec spec, InferenceOptions options, Workload workload, int cores) throws InterruptedException {
        try (RawRunner runner = RawRunner.open(spec, options)) {
            List<RawRunner.Request> requests = workload.requests();
            runner.tokenize(requests, cores);  // an untimed pass first, as every other phase has
            RawRunner.Tokenized t = runner.tokenize(requests, cores);
            out.printf(Locale.ROOT, "bench: (t) tokenizer alone on %d threads: %.1f pairs/s%n", cores, workload.pairs() / (t.nanos() / 1e9));
            return new Phase("tokenizer", workload.pairs(), t.tokens(), t.nanos(), 1.0, Map.of(), "none");
        }
    }
}
