package dev.kafkareranker.gather;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How far each gathering task's ready queries are ahead of its model, for the app's input gate: a task
 * whose gather.max.in.flight.queries handed-over queries are all still being scored, and as many again
 * waiting, is saturated, and the input is paused until one of them is done. The counts change on the
 * stream threads (waiting) and the engines' threads (a scoring ends), and are read by the gate, so they
 * are atomic; what was handed over but not forwarded yet does not count as unfinished, because nothing
 * but the stream thread can forward it, and a paused one does not run: pausing on it would never end.
 */
public final class ScoringBacklog {

    /** One task's counts. */
    static final class Task {
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicInteger unfinished = new AtomicInteger();
    }

    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    private final int maxInFlight;

    /** @param maxInFlight gather.max.in.flight.queries */
    public ScoringBacklog(int maxInFlight) {
        this.maxInFlight = maxInFlight;
    }

    /** The counts of task {@code id}, reset: a task (re)initialised counts its queries again. */
    Task open(String id) {
        Task task = new Task();
        tasks.put(id, task);
        return task;
    }

    void close(String id, Task task) {
        tasks.remove(id, task);
    }

    /** A task whose model is behind by a whole in-flight cap and another waiting, or null when none is. */
    public String saturated() {
        for (Map.Entry<String, Task> e : tasks.entrySet()) {
            Task t = e.getValue();
            int waiting = t.waiting.intValue();
            int unfinished = t.unfinished.intValue();
            if (waiting >= maxInFlight && unfinished >= maxInFlight) {
                return "task " + e.getKey() + " has " + unfinished + " queries being scored (gather.max.in.flight.queries=" + maxInFlight
                        + ") and " + waiting + " waiting";
            }
        }
        return null;
    }
}
