package dev.kafkareranker.serving;

import dev.kafkareranker.inference.InferenceException;
import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Stage;
import dev.kafkareranker.inference.StageTimes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

/**
 * A model with a cheap first stage before it: every passage of a query is scored by the first stage, the query's
 * top N by that score go on to the model, and the scores come back staged ({@link Stage}): the model's for those
 * N, the first stage's for the rest, each carrying the first stage's score. Ranking puts the model's entries above
 * every first-stage-only one (their scales differ, and the model is the better judge).
 *
 * <p>Why a {@link Scorer} composing two {@link ModelSlot}s, and not two hand-overs in the gatherer: to the
 * gatherer a cascade is one scorer, so a query is marked, handed over, handed back when a model cannot take
 * work, dead-lettered when its own rows fail and cancelled when its task moves exactly as with one model, with
 * no new store state and no change to the gathering code. Each stage keeps its own engine (batching across
 * queries and stream threads, circuit breaker, queue bound, hot swap): this class only chains their futures.
 * The cost of that choice: a query whose task moves, or whose model could not take it, after its first stage
 * scored is scored by the first stage again; that is the cheap stage.
 *
 * <p>Failures: either stage's failure is the query's, unchanged ({@code ModelUnavailableException} when a model
 * is at fault, so the query is handed over again; another {@code InferenceException} when its rows are, so it
 * becomes dead letters). {@link #accepting()} and {@link #hasRoom()} hold a query back while either stage would
 * refuse it. A cancel reaches whichever stage is running. Each stage ends within its own
 * {@code inference.request.timeout.ms}, so a cascade's query ends within twice that.
 *
 * <p>Versions: each stage leases its current version for its own call, so a query is scored by one version of
 * each stage; the scoring names the model and the version that scored its top N. The stages are the registry's
 * slots, closed by the registry, not by this class.
 */
public final class CascadeScorer implements Scorer {

    private final Scorer firstStage;
    private final Scorer model;
    private final int topN;

    /**
     * @param firstStage scores every passage
     * @param model      scores the first stage's top {@code topN}; names the results
     */
    public CascadeScorer(Scorer firstStage, Scorer model, int topN) {
        if (topN < 1) {
            throw new IllegalArgumentException("a first stage's top n must be at least 1: " + topN);
        }
        this.firstStage = firstStage;
        this.model = model;
        this.topN = topN;
    }

    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        CompletableFuture<Scoring> first = firstStage.scoreQueryAsync(query, passages);
        CompletableFuture<Scoring> result = new CompletableFuture<>();
        AtomicReference<CompletableFuture<Scoring>> second = new AtomicReference<>();
        first.whenComplete((cheap, failure) -> {
            if (failure != null) {
                result.completeExceptionally(cause(failure));
            } else if (!result.isDone()) {
                scoreTop(query, passages, cheap, result, second);
            }
        });
        // A caller's cancel (a revoked task) or timeout reaches the stage that runs, which drops the rows not yet run.
        result.whenComplete((done, failure) -> {
            if (failure != null) {
                first.cancel(false);
                CompletableFuture<Scoring> expensive = second.get();
                if (expensive != null) {
                    expensive.cancel(false);
                }
            }
        });
        return result;
    }

    /**
     * Notes nothing in {@code times}: a {@link StageTimes} describes one engine request (one submission, one tokenizing
     * span, batches all of one model), and a cascade makes two on two engines, so either stage's times alone, or both
     * merged, would place or name a trace's spans wrongly. A cascade's query span therefore has no engine stages until
     * traces take one {@code StageTimes} per stage.
     */
    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages, StageTimes times) {
        return scoreQueryAsync(query, passages);
    }

    /** Hands the first stage's top N to the model; {@code result} ends with both stages' scores or the model's failure. */
    private void scoreTop(String query, List<String> passages, Scoring cheap, CompletableFuture<Scoring> result,
                          AtomicReference<CompletableFuture<Scoring>> second) {
        int[] top;
        CompletableFuture<Scoring> expensive;
        try {
            top = top(cheap.scores(), passages.size());
            List<String> chosen = new ArrayList<>(top.length);
            for (int i : top) {
                chosen.add(passages.get(i));
            }
            expensive = model.scoreQueryAsync(query, chosen);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
            return;
        }
        second.set(expensive);
        expensive.whenComplete((scored, failure) -> {
            if (failure != null) {
                result.completeExceptionally(cause(failure));
                return;
            }
            try {
                result.complete(combine(cheap, scored, top));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        // Cancelled between the look above and the set: the look in scoreQueryAsync's handler found nothing to cancel.
        if (result.isDone()) {
            expensive.cancel(false);
        }
    }

    /**
     * The positions of the N best first-stage scores, best first; ties by position (the order the passages were
     * handed over), so the same query picks the same passages every time it is scored. A NaN or infinite first-stage
     * score is a fault of that row, never a reason to promote it: such passages come last, as Ranking ranks them.
     */
    private int[] top(List<Score> scores, int passages) {
        if (scores.size() != passages) {
            throw new InferenceException("First stage " + firstStage.modelName() + " gave " + scores.size() + " scores for " + passages
                    + " passages");
        }
        return IntStream.range(0, passages).boxed()
                .sorted(Comparator.comparing((Integer i) -> !Double.isFinite(scores.get(i).score()))
                        .thenComparing(Comparator.comparingDouble((Integer i) -> scores.get(i).score()).reversed())
                        .thenComparingInt(i -> i))
                .limit(topN).mapToInt(Integer::intValue).toArray();
    }

    private static Scoring combine(Scoring cheap, Scoring scored, int[] top) {
        if (scored.scores().size() != top.length) {
            throw new InferenceException("Model " + scored.modelName() + " gave " + scored.scores().size() + " scores for the first stage's top "
                    + top.length + " passages");
        }
        List<Score> out = new ArrayList<>(cheap.scores().size());
        for (Score s : cheap.scores()) {
            out.add(s.staged(new Stage(cheap.modelName(), false, s.score())));
        }
        for (int k = 0; k < top.length; k++) {
            double firstStageScore = cheap.scores().get(top[k]).score();
            out.set(top[k], scored.scores().get(k).staged(new Stage(scored.modelName(), true, firstStageScore)));
        }
        return new Scoring(out, scored.modelName(), scored.modelVersion());
    }

    private static Throwable cause(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    @Override
    public Scoring scoreQuery(String query, List<String> passages) {
        try {
            return scoreQueryAsync(query, passages).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw e;
        }
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        return scoreQuery(query, passages).scores();
    }

    /** The first stage's health while it refuses work, else the model's: a query needs both. */
    @Override
    public ModelHealth health() {
        ModelHealth first = firstStage.health();
        return first.accepting() ? model.health() : first;
    }

    @Override
    public boolean accepting() {
        return firstStage.accepting() && model.accepting();
    }

    @Override
    public boolean hasRoom() {
        return firstStage.hasRoom() && model.hasRoom();
    }

    /** The first stage's name. */
    public String firstStageName() {
        return firstStage.modelName();
    }

    /** How many of a query's passages the model scores. */
    public int topN() {
        return topN;
    }

    @Override
    public String modelName() {
        return model.modelName();
    }

    @Override
    public String modelVersion() {
        return model.modelVersion();
    }

    /** Nothing of its own: the stages are the registry's slots, closed with it. */
    @Override
    public void close() {
    }
}
