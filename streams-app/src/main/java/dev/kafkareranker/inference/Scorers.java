package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
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
        return open(spec, options, java.util.function.UnaryOperator.identity());
    }

    /** With the row model wrapped, e.g. by a test's fault-injecting fake around the real session. */
    static InferenceEngine open(ModelSpec spec, InferenceOptions options, java.util.function.UnaryOperator<RowModel> wrap) {
        UsageTracking.optOut();
        OnnxModel model = OnnxModel.open(spec, options);
        try {
            ModelInputs.check(model);
            TextEncoder encoder = new TextEncoder(spec);
            ScoringMethod method = method(spec, encoder);
            // Batching for the device the session actually opened on (device=auto may have fallen back to the CPU).
            InferenceOptions resolved = options.forProvider(model.executionProvider());
            InferenceOptions.Health health = resolved.health();
            InferenceEngine scorer = new InferenceEngine(spec, method, wrap.apply(new OnnxRowModel(spec, model)), encoder,
                    new DynamicBatcher.Options(resolved.maxBatchRows(), resolved.maxBatchTokens(), resolved.maxQueueDelay(),
                            resolved.maxPaddingRatio(), health.batchTimeout(), health.breakerFailures(), health.breakerBackoff()),
                    model.executionProvider(), health.requestTimeout(), resolved.tokenizerPoolSize());
            LOG.info("Model {} {} ({}) loaded from {} on {}; inputs {}; max length {} tokens (from {}); batches of at most {} rows, "
                            + "{} tokens, padding {}x{}; {} tokenizer threads",
                    spec.name(), spec.version(), spec.kind().configName(), model.file(), model.executionProvider(),
                    model.inputNames(), encoder.maxLength(), spec.maxLengthSource(), resolved.maxBatchRows(), resolved.maxBatchTokens(),
                    resolved.maxPaddingRatio(), resolved.batchFromDevice() ? " (the device's defaults)" : "", resolved.tokenizerPoolSize());
            return scorer;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }
}
