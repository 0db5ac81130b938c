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
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a model when its directory changes. It polls a fingerprint (each file's name, size and
 * modification time, following a symlinked directory) rather than using a WatchService, because
 * Kubernetes volumes swap a symlink and network filesystems send no events. A change is acted on once
 * the fingerprint has held still for one more interval, so a half-copied model is never loaded.
 */
public final class ModelWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelWatcher.class);

    private final ModelRegistry registry;
    private final ScheduledExecutorService timer;
    private final Map<String, String> loaded = new HashMap<>();
    private final Map<String, String> pending = new HashMap<>();

    public ModelWatcher(ModelRegistry registry, Duration interval) {
        this.registry = registry;
        for (String name : registry.names()) {
            loaded.put(name, fingerprint(registry.directory(name)));
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "model-watcher");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    synchronized void check() {
        for (String name : registry.names()) {
            try {
                String now = fingerprint(registry.directory(name));
                if (now.equals(loaded.get(name))) {
                    pending.remove(name);
                } else if (now.equals(pending.get(name))) {
                    LOG.info("Model {}: directory {} changed; reloading", name, registry.directory(name));
                    loaded.put(name, now);
                    pending.remove(name);
                    registry.reload(name);
                } else {
                    pending.put(name, now);
                }
            } catch (RuntimeException e) {
                // The old version keeps serving; the next change is tried again.
                LOG.error("Model {}: reload from {} failed, the current version stays: {}", name, registry.directory(name), e.getMessage());
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
