package dev.kafkareranker.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wipes, before Kafka Streams starts, the local state a crashed run left, which exactly-once would wipe
 * anyway, only later and at a cost. Under exactly-once a RocksDB store that was not closed cleanly cannot
 * be trusted (it may hold writes of an aborted transaction), so Kafka Streams 4.3, on a start after a
 * crash, opens every store of every task in state.dir to report its lag, opens them again at the first
 * assignment, finds them unclean, closes the tasks dirty, deletes their directories, restores them from
 * their changelogs and, because an active task was corrupted, makes the whole group rebalance once more
 * (StreamThread, "Active task(s) got corrupted"). On two loaded cores that was about 1 s of the median
 * restart and 3 s of the slowest (README, "Restarts and recovery time"). Deleting the task directories first leaves only the restoration.
 *
 * <p>Whether the last run stopped cleanly is known from a marker file this app writes after Kafka
 * Streams closed within its timeout and deletes at every start. Wiping more than Kafka Streams would have
 * (a task that a run closed cleanly before it crashed) costs a restoration, never a record: under
 * exactly-once the changelogs hold the committed state. A marker that is present changes nothing: Kafka
 * Streams' own checks still apply.
 */
final class CrashedState {

    private static final Logger LOG = LoggerFactory.getLogger(CrashedState.class);

    /** In state.dir/application.id, beside Kafka Streams' own kafka-streams-process-metadata. */
    static final String CLEAN_STOP_MARKER = "reranker-stopped-cleanly";
    /** Kafka Streams' task directories (StateDirectory.TASK_DIR_PATH_NAME): subtopology_partition. */
    private static final Pattern TASK_DIR = Pattern.compile("\\d+_\\d+");

    private CrashedState() {
    }

    /**
     * Called once Kafka Streams holds the lock on {@code appDir} (its constructor takes it) and before it
     * starts: deletes the marker, or, when there was none and {@code exactlyOnce}, every task directory.
     *
     * @return the task directories deleted
     */
    static List<String> prepare(Path appDir, boolean exactlyOnce) {
        try {
            if (Files.deleteIfExists(appDir.resolve(CLEAN_STOP_MARKER)) || !exactlyOnce || !Files.isDirectory(appDir)) {
                return List.of();
            }
            List<Path> tasks;
            try (Stream<Path> entries = Files.list(appDir)) {
                tasks = entries.filter(p -> Files.isDirectory(p) && TASK_DIR.matcher(p.getFileName().toString()).matches())
                        .sorted().toList();
            }
            List<String> wiped = new ArrayList<>();
            for (Path task : tasks) {
                if (deleteTree(task)) {
                    wiped.add(task.getFileName().toString());
                }
            }
            if (!wiped.isEmpty()) {
                LOG.info("The last run did not stop cleanly (no {} in {}): wiping the local state of tasks {} before Kafka Streams"
                        + " starts; exactly-once cannot trust it and restores it from the changelogs either way", CLEAN_STOP_MARKER,
                        appDir, wiped);
            }
            return wiped;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare the state directory " + appDir + " after a crash: " + e.getMessage()
                    + " (check state.dir's permissions and free space)", e);
        }
    }

    /** After Kafka Streams closed cleanly: the next start keeps the local state. */
    static void markStoppedCleanly(Path appDir) {
        try {
            if (Files.isDirectory(appDir)) {
                Files.writeString(appDir.resolve(CLEAN_STOP_MARKER), "Kafka Streams closed cleanly; deleted at the next start\n");
            }
        } catch (IOException e) {
            // Only costs the next start a restoration of every task.
            LOG.warn("Cannot write {} in {}: the next start restores every task from its changelog ({})", CLEAN_STOP_MARKER, appDir,
                    e.toString());
        }
    }

    /** Deletes {@code dir} (a file or a folder tree, links not followed); true if it held anything besides empty folders. */
    static boolean deleteTree(Path dir) throws IOException {
        boolean hadFiles;
        try (Stream<Path> walk = Files.walk(dir)) {
            hadFiles = walk.anyMatch(Files::isRegularFile);
        }
        // Kafka's recursive delete: links removed, not followed; a failure is thrown for the caller to report.
        org.apache.kafka.common.utils.Utils.delete(dir.toFile());
        return hadFiles;
    }
}
