package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One model, shared by all stream threads. The caller tokenizes its own request (so tokenization of
 * the next requests overlaps the batch running now), the batcher runs rows of all callers together,
 * and the caller turns its rows' outputs into scores.
 *
 * <p>Every future this engine returns ends: with scores, with an {@link InferenceException}
 * (permanent for that input), or with a {@link ModelUnavailableException} (transient: the model is at
 * fault) at the latest after the request timeout. Cancelling it (a task that was revoked) drops its
 * rows that have not run yet. {@link #health()} says whether new work is taken.
 */
public final class InferenceEngine implements Scorer {

    /** One timer for every engine's request timeouts; a cancelled timeout is removed at once, not held until it would fire. */
    private static final ScheduledThreadPoolExecutor TIMEOUTS = timeouts();

    private final ModelSpec spec;
    private final ScoringMethod method;
    private final RowModel model;
    private final AutoCloseable encoder;
    private final DynamicBatcher batcher;
    private final EngineStats stats = new EngineStats();
    private final String executionProvider;
    private final Duration requestTimeout;

    InferenceEngine(ModelSpec spec, ScoringMethod method, RowModel model, AutoCloseable encoder,
                    DynamicBatcher.Options options, String executionProvider, Duration requestTimeout) {
        this.spec = spec;
        this.method = method;
        this.model = model;
        this.encoder = encoder;
        this.executionProvider = executionProvider;
        this.requestTimeout = requestTimeout;
        // A known-good request tells a broken model from bad rows, and tests an open circuit breaker.
        this.batcher = new DynamicBatcher(model, options, stats, spec.name(), method.encode("probe query", List.of("probe passage")));
    }

    private static ScheduledThreadPoolExecutor timeouts() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "inference-request-timeouts");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
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
        CompletableFuture<float[][]> submitted = batcher.submit(rows);
        submitted.whenComplete((outputs, failure) -> {
            if (failure != null) {
                scoring.completeExceptionally(asInferenceException(failure));
                return;
            }
            try {
                scoring.complete(new Scoring(checkFinite(method.finish(outputs)), modelName(), modelVersion()));
            } catch (RuntimeException e) {
                scoring.completeExceptionally(asInferenceException(e));
            }
        });
        if (!scoring.isDone()) {
            ScheduledFuture<?> timeout = TIMEOUTS.schedule(() -> scoring.completeExceptionally(new InferenceTimeoutException(
                    "No scores from " + spec.name() + " within inference.request.timeout.ms=" + requestTimeout.toMillis()
                            + " (the model is hung or far behind its input)")), requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
            scoring.whenComplete((done, failure) -> {
                timeout.cancel(false);
                // Ended by the timeout or by the caller's cancel: the rows not yet run are dropped from the queue.
                if (failure != null) {
                    submitted.completeExceptionally(failure instanceof CancellationException
                            ? new CancellationException("the caller cancelled") : failure);
                }
            });
        }
        return scoring;
    }

    /** A score from finite logits can still overflow in an activation; NaN would rank first. */
    private List<Score> checkFinite(List<Score> scores) {
        for (int i = 0; i < scores.size(); i++) {
            Score s = scores.get(i);
            if (!Double.isFinite(s.score()) || !Double.isFinite(s.logit())) {
                throw new NonFiniteScoreException("Model " + spec.name() + " gave passage " + i + " a non-finite score (logit "
                        + s.logit() + ", score " + s.score() + "): it cannot be ranked, so the query is not scored");
            }
        }
        return scores;
    }

    private InferenceException asInferenceException(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof InferenceException inference) {
            // The same instance: its type says whether retrying can help.
            return inference;
        }
        return new InferenceException("Scoring with " + spec.name() + " failed: " + cause, cause);
    }

    /** Whether the model takes work: the circuit breaker's state. */
    @Override
    public ModelHealth health() {
        return batcher.health();
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
        try {
            encoder.close();
        } catch (Exception e) {
            throw new IllegalStateException("Closing the tokenizer of " + spec.name() + " failed: " + e.getMessage(), e);
        }
    }
}
