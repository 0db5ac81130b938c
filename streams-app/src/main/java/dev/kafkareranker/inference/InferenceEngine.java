package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * One model, shared by all stream threads. The caller tokenizes its own request (so tokenization of
 * the next requests overlaps the batch running now), the batcher runs rows of all callers together,
 * and the caller turns its rows' outputs into scores.
 */
public final class InferenceEngine implements Scorer {

    private final ModelSpec spec;
    private final ScoringMethod method;
    private final RowModel model;
    private final TextEncoder encoder;
    private final DynamicBatcher batcher;
    private final EngineStats stats = new EngineStats();
    private final String executionProvider;

    InferenceEngine(ModelSpec spec, ScoringMethod method, RowModel model, TextEncoder encoder,
                    DynamicBatcher.Options options, String executionProvider) {
        this.spec = spec;
        this.method = method;
        this.model = model;
        this.encoder = encoder;
        this.executionProvider = executionProvider;
        this.batcher = new DynamicBatcher(model, options, stats, spec.name());
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        try {
            return scoreQueryAsync(query, passages).get().scores();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InferenceException("Interrupted while waiting for scores of " + spec.name(), e);
        } catch (ExecutionException e) {
            throw asInferenceException(e.getCause());
        }
    }

    /** Tokenizes on the calling thread, so the next request is ready while the current batch runs. */
    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        if (passages.isEmpty()) {
            return CompletableFuture.completedFuture(new Scoring(List.of(), modelName(), modelVersion()));
        }
        List<Encoded> rows;
        try {
            rows = method.encode(query, passages);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(asInferenceException(e));
        }
        CompletableFuture<Scoring> scoring = new CompletableFuture<>();
        batcher.submit(rows).whenComplete((outputs, failure) -> {
            if (failure != null) {
                scoring.completeExceptionally(asInferenceException(failure));
                return;
            }
            try {
                scoring.complete(new Scoring(method.finish(outputs), modelName(), modelVersion()));
            } catch (RuntimeException e) {
                scoring.completeExceptionally(asInferenceException(e));
            }
        });
        return scoring;
    }

    private InferenceException asInferenceException(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof InferenceException inference) {
            return new InferenceException(inference.getMessage(), inference);
        }
        return new InferenceException("Scoring with " + spec.name() + " failed: " + cause, cause);
    }

    /** What the engine has done so far. */
    public EngineStats.Snapshot stats() {
        return stats.snapshot();
    }

    /** The execution provider the session runs on, e.g. CPUExecutionProvider. */
    public String executionProvider() {
        return executionProvider;
    }

    public ModelSpec spec() {
        return spec;
    }

    @Override
    public String modelName() {
        return spec.name();
    }

    @Override
    public String modelVersion() {
        return spec.version();
    }

    @Override
    public void close() {
        batcher.close();
        model.close();
        encoder.close();
    }
}
