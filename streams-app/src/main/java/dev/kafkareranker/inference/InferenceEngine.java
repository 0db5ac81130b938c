package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One model, shared by all stream threads. A small tokenizer pool tokenizes requests (so tokenization of
 * the next requests overlaps the batch running now, on every core), the batcher runs rows of all callers
 * together, and its finisher thread turns each request's outputs into scores.
 *
 * <p>Every future this engine returns ends: with scores, with an {@link InferenceException}
 * (permanent for that input), or with a {@link ModelUnavailableException} (transient: the model is at
 * fault) at the latest after the request timeout. Cancelling it (a task that was revoked) drops its
 * rows that have not run yet. {@link #health()} says whether new work is taken, {@link #hasRoom()}
 * whether the queue is below its bound.
 *
 * <p>The session and the tokenizer are closed only after every call into them has returned: each
 * tokenizer task and each model call holds a reference ({@link ModelReferences}), so {@link #close()}
 * never waits and never frees them under a running native call.
 */
public final class InferenceEngine implements Scorer {

    /** One timer for every engine's request timeouts; a cancelled timeout is removed at once, not held until it would fire. */
    private static final ScheduledThreadPoolExecutor TIMEOUTS = timeouts();
    /** Fewer passages per tokenizer task than this and splitting a request costs more than it saves. */
    private static final int MIN_PART = 8;

    private final ModelSpec spec;
    private final ScoringMethod method;
    private final DynamicBatcher batcher;
    private final EngineStats stats = new EngineStats();
    private final String executionProvider;
    private final Duration requestTimeout;
    /** Tokenizes requests for every caller, so tokenizing uses all cores whatever the number of stream threads. */
    private final ExecutorService tokenizers;
    private final int tokenizerThreads;
    private final ModelReferences references;
    /** What a traced request's stages are timed on ({@link StageTimes}): the batcher's clock. */
    private final EngineClock clock;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param method the loaded method, or a test's wrapper around it
     * @param model  the loaded row model, or a test's wrapper around it; closed with the tokenizer once unused
     * @param clock  what the queue delay, the batch timeout and the breaker's backoff are measured on
     */
    InferenceEngine(LoadedModel loaded, ScoringMethod method, RowModel model, DynamicBatcher.Options options, BatchSizer sizer,
                    EngineClock clock) {
        this.spec = loaded.spec();
        this.method = method;
        this.executionProvider = loaded.executionProvider();
        this.requestTimeout = loaded.options().health().requestTimeout();
        this.tokenizerThreads = loaded.options().tokenizerPoolSize();
        this.clock = clock;
        // A known-good request tells a broken model from bad rows, and tests an open circuit breaker.
        List<Encoded> probe = method.encode("probe query", List.of("probe passage")).rows();
        this.references = new ModelReferences(spec.name() + " " + spec.version(), () -> {
            try {
                model.close();
            } finally {
                loaded.encoder().close();
            }
        });
        this.tokenizers = Executors.newFixedThreadPool(tokenizerThreads, DaemonThreads.numbered("inference-" + spec.name() + "-tokenize-"));
        this.batcher = new DynamicBatcher(model, options, sizer, stats, spec.name(), probe, references, clock);
    }

    private static ScheduledThreadPoolExecutor timeouts() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, DaemonThreads.named("inference-request-timeouts"));
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
     * batcher, and the scores are made on its finisher thread. The request counts against the queue's
     * bound from here on.
     */
    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        return scoreQueryAsync(query, passages, null);
    }

    /** As {@link #scoreQueryAsync(String, List)}, timing its stages into {@code times} when that is not null. */
    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages, StageTimes times) {
        if (passages.isEmpty()) {
            return CompletableFuture.completedFuture(new Scoring(List.of(), modelName(), modelVersion()));
        }
        int admitted = passages.size();
        // Refused before tokenizing: the batcher would refuse the rows.
        ModelUnavailableException refused = closed.get() ? closedException() : batcher.admit(admitted);
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        if (times != null) {
            times.submitted(clock.nanoTime(), executionProvider);
        }
        CompletableFuture<Scoring> scoring = new CompletableFuture<>();
        AtomicReference<CompletableFuture<float[][]>> submittedRef = new AtomicReference<>();
        encode(query, passages, scoring, times).whenComplete((request, encodeFailure) -> {
            if (encodeFailure != null || scoring.isDone()) {
                // Failed, or timed out or cancelled while tokenizing: nothing to run.
                batcher.withdraw(admitted);
                if (encodeFailure != null) {
                    scoring.completeExceptionally(asInferenceException(encodeFailure));
                }
                return;
            }
            // A passage scored in chunks is several rows: the queue's count is corrected to the rows made.
            CompletableFuture<float[][]> submitted = batcher.submit(request.rows(), admitted, times);
            submittedRef.set(submitted);
            submitted.whenComplete((outputs, failure) -> {
                if (failure != null) {
                    scoring.completeExceptionally(asInferenceException(failure));
                    return;
                }
                try {
                    List<Score> scores = checkFinite(method.finish(request, outputs));
                    stats.recordPassages(request);
                    scoring.complete(new Scoring(scores, modelName(), modelVersion()));
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
     * The rows of a request, in order, tokenized in parts on the pool. A bi-encoder's first row is the
     * query's own, so its request is tokenized whole (on one pool thread) rather than split.
     */
    private CompletableFuture<EncodedRequest> encode(String query, List<String> passages, CompletableFuture<?> request, StageTimes times) {
        int partCount = method instanceof BiEncoderMethod ? 1
                : Math.max(1, Math.min(tokenizerThreads, passages.size() / MIN_PART));
        if (partCount == 1) {
            return tokenize(query, passages, request, times);
        }
        List<CompletableFuture<EncodedRequest>> parts = new ArrayList<>(partCount);
        int size = (passages.size() + partCount - 1) / partCount;
        for (int from = 0; from < passages.size(); from += size) {
            parts.add(tokenize(query, passages.subList(from, Math.min(passages.size(), from + size)), request, times));
        }
        // Complete once every part is, failed or not: no part of this request is still tokenizing after it.
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> EncodedRequest.concat(parts.stream().map(CompletableFuture::join).toList()));
    }

    /**
     * One tokenizer task. It holds a reference to the tokenizer until it returns, and skips the work when
     * its request has already ended (cancelled or timed out), so a revoked task's queries leave the pool fast.
     */
    private CompletableFuture<EncodedRequest> tokenize(String query, List<String> passages, CompletableFuture<?> request, StageTimes times) {
        if (!references.retain()) {
            return CompletableFuture.failedFuture(closedException());
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    if (request.isDone()) {
                        throw new CancellationException("the request ended before it was tokenized");
                    }
                    if (times == null) {
                        return method.encode(query, passages);
                    }
                    long start = clock.nanoTime();
                    EncodedRequest encoded = method.encode(query, passages);
                    times.tokenized(start, clock.nanoTime(), encoded.rows());
                    return encoded;
                } finally {
                    references.release();
                }
            }, tokenizers);
        } catch (RejectedExecutionException e) {
            references.release();
            return CompletableFuture.failedFuture(closedException());
        }
    }

    private ModelUnavailableException closedException() {
        return new ModelUnavailableException("the inference engine of " + spec.name() + " is closed");
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

    /** References to the session and tokenizer held now (the engine's own until closed); 0 once they are closed. */
    int nativeReferences() {
        return references.count();
    }

    /** Whether the engine's queue is below its bound (inference.queue.max.rows); never blocks. */
    @Override
    public boolean hasRoom() {
        return batcher.hasRoom();
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

    /**
     * Takes no new work and fails what is queued; never waits. The session and the tokenizer close when the
     * last call using them returns: at once when none runs, later for a batch or a tokenizer task in flight,
     * and never for a hung call that never returns (its memory stays held until the process ends).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        tokenizers.shutdown();
        batcher.close();
        references.releaseOwner();
    }
}
