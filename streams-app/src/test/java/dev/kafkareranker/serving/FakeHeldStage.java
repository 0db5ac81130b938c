package dev.kafkareranker.serving;

import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for a stage's engine whose calls end only when the test says, with the health and queue room the test
 * sets: for what a real engine cannot be held in on cue (a call still running when its query is cancelled, a breaker
 * open on one stage only). A passage's score is the number after {@code score=} in it, 0 without one.
 */
final class FakeHeldStage implements Scorer {

    /** One call: its passages and its future. */
    record Call(List<String> passages, CompletableFuture<Scoring> future) {}

    final List<Call> calls = new CopyOnWriteArrayList<>();
    volatile ModelHealth health = ModelHealth.HEALTHY;
    volatile boolean room = true;
    private final String name;

    FakeHeldStage(String name) {
        this.name = name;
    }

    @Override
    public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
        Call call = new Call(List.copyOf(passages), new CompletableFuture<>());
        calls.add(call);
        return call.future();
    }

    /** Ends the last call with the stated scores. */
    void answer() {
        Call call = calls.get(calls.size() - 1);
        List<Score> scores = new ArrayList<>();
        for (String p : call.passages()) {
            int at = p.indexOf("score=");
            double value = at < 0 ? 0 : Double.parseDouble(p.substring(at + 6).split(" ")[0]);
            scores.add(new Score(value, value));
        }
        call.future().complete(new Scoring(scores, name, "test"));
    }

    @Override
    public List<Score> score(String query, List<String> passages) {
        throw new UnsupportedOperationException("the cascade scores through scoreQueryAsync");
    }

    @Override
    public ModelHealth health() {
        return health;
    }

    @Override
    public boolean hasRoom() {
        return room;
    }

    @Override
    public String modelName() {
        return name;
    }

    @Override
    public String modelVersion() {
        return "test";
    }

    @Override
    public void close() {
    }
}
