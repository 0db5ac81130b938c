package dev.kafkareranker.app;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native libraries that earlier, killed processes left in java.io.tmpdir, removed at start.
 *
 * <p>ONNX Runtime's Java binding copies its libraries out of its jar into a fresh {@code onnxruntime-java*}
 * directory at every start (23 MB; 370 MB more once the CUDA provider is used), and RocksDB's a fresh
 * {@code librocksdbjni*.so} (14 MB). Both delete their copies on a normal exit, never after SIGKILL: an OOM
 * kill, {@code docker kill}, a liveness probe giving up. A container restarted in place keeps its /tmp (in
 * the Helm chart an emptyDir, which outlives container restarts), so it gains one set of copies per crash
 * until the volume is full and the pod is evicted. Neither library can be pointed at one copy for all
 * starts: ONNX Runtime extracts its providers from the jar whenever the jar has them, whatever
 * {@code onnxruntime.native.path} says, and the temporary names are random.
 *
 * <p>Removing them is safe only where no other live process uses the same tmpdir, which only the operator
 * knows: {@code KAFKA_RERANKER_OWNS_TMPDIR=true} says so, and the images set it (one JVM per container). Not
 * a {@code RERANKER_*} variable, as those are the app's settings; this one is read before any of them, and
 * before either library loads, so that this process's own copies are never among those removed.
 */
final class LeftoverNativeLibraries {

    static final String OWNS_TMPDIR = "KAFKA_RERANKER_OWNS_TMPDIR";
    /** What each library's loader names its copy (ai.onnxruntime.OnnxRuntime, org.rocksdb.NativeLibraryLoader). */
    static final String PATTERN = "{onnxruntime-java*,librocksdbjni*.so}";

    private static final Logger LOG = LoggerFactory.getLogger(LeftoverNativeLibraries.class);

    private LeftoverNativeLibraries() {
    }

    /** At start: removes the leftovers in java.io.tmpdir if the environment says this process owns it. */
    static void removeIfOwned(Map<String, String> env) {
        if (!Boolean.parseBoolean(env.getOrDefault(OWNS_TMPDIR, "false"))) {
            return;
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long bytes = remove(tmp);
        if (bytes > 0) {
            LOG.info("Removed {} MB of native libraries that killed processes left in {} ({}=true)", bytes >> 20, tmp, OWNS_TMPDIR);
        }
    }

    /**
     * Removes every leftover copy in {@code dir}; returns the bytes freed. One that cannot be removed (another
     * user's, say) is logged and skipped: leftovers cost disk, not correctness, so the app starts anyway.
     */
    static long remove(Path dir) {
        long freed = 0;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(dir, PATTERN)) {
            for (Path leftover : leftovers) {
                try {
                    freed += removeTree(leftover);
                } catch (IOException e) {
                    LOG.warn("Could not remove {}, a native library copy an earlier process left: {}", leftover, e.toString());
                }
            }
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            LOG.warn("Could not list {} for the native library copies earlier processes left: {}", dir, e.toString());
        }
        return freed;
    }

    private static long removeTree(Path root) throws IOException {
        long freed = 0;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                freed += Files.isRegularFile(p) ? Files.size(p) : 0;
                Files.deleteIfExists(p);
            }
        }
        return freed;
    }
}
