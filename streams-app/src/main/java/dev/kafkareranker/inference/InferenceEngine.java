package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One model, shared by all stream threads. A small tokenizer pool tokenizes requests (so tokenization of
 * the next requests overlaps the batch running now, on every core), the batcher runs rows of all callers
 * together, and its finisher thread turns each request's outputs into scores.
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
    /** Tokenizes requests for every caller, so tokenizing uses all cores whatever the number of stream threads. */
    private final ExecutorService tokenizers;
    private final int tokenizerThreads;
    /** Fewer passages per chunk than this and splitting costs more than it saves. */
    private static final int MIN_CHUNK = 8;

    InferenceEngine(ModelSpec spec, ScoringMethod method, RowModel model, AutoCloseable encoder,
                    DynamicBatcher.Options options, String executionProvider, Duration requestTimeout, int tokenizerThreads) {
        this.spec = spec;
        this.method = method;
        this.model = model;
        this.encoder = encoder;
        this.executionProvider = executionProvider;
        this.requestTimeout = requestTimeout;
        this.tokenizerThreads = tokenizerThreads;
        AtomicInteger threadCount = new AtomicInteger();
        this.tokenizers = Executors.newFixedThreadPool(tokenizerThreads, r -> {
            Thread t = new Thread(r, "inference-" + spec.name() + "-tokenize-" + threadCount.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
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

    /**
     * Tokenizes on the engine's tokenizer pool, a request's passages split across its threads, so the
     * caller (a stream thread) is free at once and one large request uses every core; rows then go to the
     * batcher, and the scores are made on its finisher thread.
     */
    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        if (passages.isEmpty()) {
            return CompletableFuture.completedFuture(new Scoring(List.of(), modelName(), modelVersion()));
        }
        ModelUnavailableException refused = batcher.refusal();
        if (refused != null) {
            // Not worth tokenizing: the batcher would refuse the rows.
            return CompletableFuture.failedFuture(refused);
        }
        CompletableFuture<Scoring> scoring = new CompletableFuture<>();
        AtomicReference<CompletableFuture<float[][]>> submittedRef = new AtomicReference<>();
        encode(query, passages).whenComplete((rows, encodeFailure) -> {
            if (encodeFailure != null) {
                scoring.completeExceptionally(asInferenceException(encodeFailure));
                return;
            }
            if (scoring.isDone()) {
                return;  // timed out or cancelled while tokenizing: nothing to run
            }
            CompletableFuture<float[][]> submitted = batcher.submit(rows);
            submittedRef.set(submitted);
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
            if (scoring.isDone()) {
                dropRows(submitted, scoring);
            }
        });
        if (!scoring.isDone()) {
            ScheduledFuture<?> timeout = TIMEOUTS.schedule(() -> scoring.completeExceptionally(new InferenceTimeoutException(
                    "No scores from " + spec.name() + " within inference.request.timeout.ms=" + requestTimeout.toMillis()
                            + " (the model is hung or far behind its input)")), requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
            scoring.whenComplete((done, failure) -> {
                timeout.cancel(false);
                CompletableFuture<float[][]> submitted = submittedRef.get();
                if (submitted != null) {
                    dropRows(submitted, scoring);
                }
            });
        }
        return scoring;
    }

    /** Ended by the timeout or by the caller's cancel: the rows not yet run are dropped from the queue. */
    private static void dropRows(CompletableFuture<float[][]> submitted, CompletableFuture<Scoring> scoring) {
        if (!scoring.isCompletedExceptionally()) {
            return;
        }
        Throwable failure;
        try {
            scoring.getNow(null);
            return;
        } catch (CancellationException e) {
            failure = new CancellationException("the caller cancelled");
        } catch (CompletionException e) {
            failure = e.getCause() != null ? e.getCause() : e;
        }
        submitted.completeExceptionally(failure);
    }

    /**
     * The rows of a request, in order, tokenized in chunks on the pool. A bi-encoder's first row is the
     * query's own, so its request is tokenized whole (on one pool thread) rather than split.
     */
    private CompletableFuture<List<Encoded>> encode(String query, List<String> passages) {
        int chunks = method instanceof BiEncoderMethod ? 1
                : Math.max(1, Math.min(tokenizerThreads, passages.size() / MIN_CHUNK));
        try {
            if (chunks == 1) {
                return CompletableFuture.supplyAsync(() -> method.encode(query, passages), tokenizers);
            }
            List<CompletableFuture<List<Encoded>>> parts = new ArrayList<>(chunks);
            int size = (passages.size() + chunks - 1) / chunks;
            for (int from = 0; from < passages.size(); from += size) {
                List<String> chunk = passages.subList(from, Math.min(passages.size(), from + size));
                parts.add(CompletableFuture.supplyAsync(() -> method.encode(query, chunk), tokenizers));
            }
            return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
                List<Encoded> rows = new ArrayList<>(passages.size());
                for (CompletableFuture<List<Encoded>> part : parts) {
                    rows.addAll(part.join());
                }
                return rows;
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new ModelUnavailableException("the inference engine of " + spec.name() + " is closed"));
        }
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
        tokenizers.shutdown();
        batcher.close();
        model.close();
        try {
            encoder.close();
        } catch (Exception e) {
            throw new IllegalStateException("Closing the tokenizer of " + spec.name() + " failed: " + e.getMessage(), e);
        }
    }
}
