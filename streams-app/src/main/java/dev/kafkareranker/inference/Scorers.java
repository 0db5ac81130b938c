package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the scorer a model directory's spec calls for. */
public final class Scorers {

    private static final Logger LOG = LoggerFactory.getLogger(Scorers.class);

    private Scorers() {
    }

    /** The scoring method of the spec's kind. */
    static ScoringMethod method(ModelSpec spec, TextEncoder encoder) {
        return switch (spec.kind()) {
            case BI_ENCODER -> new BiEncoderMethod(spec, encoder);
            case CROSS_ENCODER, DECODER -> new CrossEncoderMethod(spec, encoder);
            case CAUSAL_LM -> new CausalLmMethod(spec, encoder);
        };
    }

    public static InferenceEngine open(ModelSpec spec, InferenceOptions options) {
        return open(spec, options, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /** With the row model wrapped, e.g. by a test's fault-injecting fake around the real session. */
    static InferenceEngine open(ModelSpec spec, InferenceOptions options, UnaryOperator<RowModel> wrap) {
        return open(spec, options, wrap, UnaryOperator.identity());
    }

    /**
     * With the row model and the scoring method (the tokenizer's caller) wrapped, e.g. by a test that holds
     * calls inside them. A failure after the session opened closes the session and the tokenizer.
     */
    static InferenceEngine open(ModelSpec spec, InferenceOptions options, UnaryOperator<RowModel> wrapModel,
                                UnaryOperator<ScoringMethod> wrapMethod) {
        return open(spec, options, wrapModel, wrapMethod, EngineClock.SYSTEM);
    }

    /** As above, on a clock of the test's. */
    static InferenceEngine open(ModelSpec spec, InferenceOptions options, UnaryOperator<RowModel> wrapModel,
                                UnaryOperator<ScoringMethod> wrapMethod, EngineClock clock) {
        LoadedModel loaded = LoadedModel.open(spec, options);
        try {
            InferenceOptions resolved = loaded.options();
            InferenceOptions.Health health = resolved.health();
            MemoryAwareSizer sizer = sizer(loaded);
            DynamicBatcher.Options batching = new DynamicBatcher.Options(resolved.maxBatchRows(), resolved.maxBatchTokens(),
                    resolved.maxQueueDelay(), health.batchTimeout(), health.breakerFailures(), health.breakerBackoff(),
                    resolved.maxQueuedRows());
            InferenceEngine engine = new InferenceEngine(loaded, wrapMethod.apply(loaded.method()), wrapModel.apply(loaded.rowModel()),
                    batching, sizer, clock);
            LOG.info("Model {} {} ({}) {}; batches of at most {} rows, {} tokens, padding {}x{}; {}; {} tokenizer threads; queue bound {} rows",
                    spec.name(), spec.version(), spec.kind().configName(), loaded.describe(), resolved.maxBatchRows(),
                    resolved.maxBatchTokens(), resolved.maxPaddingRatio(), resolved.batchFromDevice() ? " (the device's defaults)" : "",
                    sizer.describe(), resolved.tokenizerPoolSize(), batching.queueBound());
            return engine;
        } catch (RuntimeException | Error e) {
            loaded.close();
            throw e;
        }
    }

    /**
     * How the engine cuts pools into batches for the device the session opened on: rows, tokens and padding, and
     * on a GPU the memory each batch's attention and activations take ({@link BatchSizer#forModel}).
     */
    static MemoryAwareSizer sizer(LoadedModel loaded) {
        return BatchSizer.sizer(loaded.spec(), loaded.file(), loaded.options(), loaded.executionProvider());
    }
}
