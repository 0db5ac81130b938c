package dev.kafkareranker.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * This project's directory in the user's cache ({@code $XDG_CACHE_HOME/kafka-reranker}, else
 * {@code ~/.cache/kafka-reranker}): where the development stack keeps the app's state, and where demo and eval
 * keep theirs while they run. Not the OS temp directory, which Kafka Streams warns about (the OS may clear it
 * under a running app), and whose warning would be noise for a run that deletes its state at the end.
 */
public final class UserCache {

    private UserCache() {
    }

    /** The cache directory, from the environment given (tests pass their own). */
    static Path dir(Map<String, String> env) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("kafka-reranker");
    }

    /**
     * A new directory for one run's Kafka Streams state, under the cache (under the OS temp directory when the cache
     * cannot be written, a read-only home); {@link #deleteTree} it when the run ends.
     */
    public static Path scratch(String prefix) throws IOException {
        try {
            Path parent = Files.createDirectories(dir(System.getenv()).resolve("scratch"));
            return Files.createTempDirectory(parent, prefix);
        } catch (IOException | SecurityException e) {
            return Files.createTempDirectory(prefix);
        }
    }

    /**
     * Removes a directory and everything under it (Kafka's recursive delete: links removed, not followed); best
     * effort, as the run's own outcome matters more.
     */
    public static void deleteTree(Path dir) {
        try {
            org.apache.kafka.common.utils.Utils.delete(dir.toFile());
        } catch (IOException | UncheckedIOException e) {
            // Left for the next run's clean-up or the user: never a reason to fail the command.
        }
    }
}
