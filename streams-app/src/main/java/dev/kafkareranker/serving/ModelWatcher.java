package dev.kafkareranker.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a model when its directory changes. It polls a fingerprint (each file's name, size and
 * modification time, following a symlinked directory) rather than using a WatchService, because
 * Kubernetes volumes swap a symlink and network filesystems send no events.
 *
 * <p>A changed directory is loaded only once its fingerprint has held still for the settle period
 * ({@code models.watch.settle.ms}): a copy that pauses between {@code model.onnx}, its external data
 * and {@code reranker.json} shorter than that is never loaded half-done. (A marker file was the other
 * choice; it would need every deployer's copy script to write it. Replacing the directory through a
 * symlink switch is atomic and needs no settling either way.) A load that fails is retried, the old
 * version serving meanwhile, after the interval doubled per failure up to {@link #MAX_RETRY_BACKOFF};
 * a further change of the directory starts over.
 */
public final class ModelWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelWatcher.class);

    /** A directory that keeps failing to load is still retried, but not more than every ten minutes. */
    static final Duration MAX_RETRY_BACKOFF = Duration.ofMinutes(10);

    /** What the watcher knows about one model's directory. */
    private static final class Watched {
        String loaded;
        String seen;
        long seenSinceMillis;
        int failures;
        long nextAttemptMillis;
    }

    private final ModelRegistry registry;
    private final long intervalMillis;
    private final long settleMillis;
    private final LongSupplier clock;
    private final ScheduledExecutorService timer;
    private final Map<String, Watched> watched = new HashMap<>();

    public ModelWatcher(ModelRegistry registry, Duration interval, Duration settle) {
        this(registry, interval, settle, System::currentTimeMillis, true);
    }

    /** With a clock of the test's, and without the timer: the test calls {@link #check()}. */
    ModelWatcher(ModelRegistry registry, Duration interval, Duration settle, LongSupplier clock, boolean schedule) {
        this.registry = registry;
        this.intervalMillis = interval.toMillis();
        this.settleMillis = settle.toMillis();
        this.clock = clock;
        for (String name : registry.names()) {
            Watched w = new Watched();
            w.loaded = fingerprint(registry.directory(name));
            watched.put(name, w);
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "model-watcher");
            t.setDaemon(true);
            return t;
        });
        if (schedule) {
            timer.scheduleWithFixedDelay(this::checkAndCarryOn, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A scheduled task that throws is never run again, and the watcher would stop without a word: whatever
     * one check throws is logged and the next check runs.
     */
    private void checkAndCarryOn() {
        try {
            check();
        } catch (RuntimeException | Error e) {
            LOG.error("Checking the model directories failed; checking again in {} ms", intervalMillis, e);
        }
    }

    synchronized void check() {
        for (String name : registry.names()) {
            Watched w = watched.get(name);
            String now = fingerprint(registry.directory(name));
            long at = clock.getAsLong();
            if (now.equals(w.loaded)) {
                w.seen = null;
                w.failures = 0;
                continue;
            }
            if (!now.equals(w.seen)) {
                // Changed (again): the settle period and any retry backoff start over.
                w.seen = now;
                w.seenSinceMillis = at;
                w.failures = 0;
                w.nextAttemptMillis = 0;
                continue;
            }
            if (at - w.seenSinceMillis < settleMillis || at < w.nextAttemptMillis) {
                continue;
            }
            try {
                LOG.info("Model {}: directory {} changed and has been still for {} ms; reloading", name, registry.directory(name),
                        at - w.seenSinceMillis);
                registry.reload(name);
                w.loaded = now;
                w.seen = null;
                w.failures = 0;
            } catch (RuntimeException | Error e) {
                // An Error too: a new version that cannot load (an OutOfMemoryError, a LinkageError from its
                // native library) leaves the current one serving and is retried like any failed load.
                w.failures++;
                long backoff = Math.min(MAX_RETRY_BACKOFF.toMillis(), Math.max(1, intervalMillis) << Math.min(20, w.failures - 1));
                w.nextAttemptMillis = at + backoff;
                LOG.error("Model {}: reload from {} failed (attempt {}), the current version {} keeps serving; retrying in {} ms: {}",
                        name, registry.directory(name), w.failures, registry.slot(name).modelVersion(), backoff, e.toString());
            }
        }
    }

    static String fingerprint(Path dir) {
        try (Stream<Path> files = Files.walk(dir.toRealPath(), 2)) {
            StringBuilder out = new StringBuilder();
            files.filter(Files::isRegularFile).sorted().forEach(f -> {
                try {
                    out.append(f).append(':').append(Files.size(f)).append(':').append(Files.getLastModifiedTime(f).toMillis()).append('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return Integer.toHexString(Objects.hash(out.toString())) + ":" + out.length();
        } catch (IOException | UncheckedIOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
