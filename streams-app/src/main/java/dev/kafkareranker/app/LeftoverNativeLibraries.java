package dev.kafkareranker.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native libraries that earlier, killed processes left in java.io.tmpdir, removed when {@code run} starts.
 *
 * <p>ONNX Runtime's Java binding copies its libraries out of its jar into a fresh {@code onnxruntime-java*}
 * directory at every start (23 MB; 370 MB more once the CUDA provider is used), and RocksDB a fresh
 * {@code librocksdbjni*.so} (14 MB). On a normal exit RocksDB's copy and ONNX Runtime's files are deleted
 * (ONNX Runtime's then empty directory stays); after SIGKILL (an OOM kill, {@code docker kill}, a liveness
 * probe giving up) nothing is. A container restarted in place keeps its /tmp (in the Helm chart an emptyDir,
 * which outlives container restarts), so it gains one set of copies per crash until the volume is full and
 * the pod is evicted. ONNX Runtime 1.23 cannot be pointed at one copy: it extracts its providers from the
 * jar whenever the jar has them, whatever {@code onnxruntime.native.path} says. RocksDB can
 * ({@code ROCKSDB_SHAREDLIB_DIR}: one fixed name there, deleted and written again at each start); its
 * default, a random name per start, is what the images keep, so one removal serves both libraries.
 *
 * <p>Removing them is safe only where no other live process uses the same tmpdir, which only the operator
 * knows: {@code KAFKA_RERANKER_OWNS_TMPDIR=true} says so, and the images set it (one app JVM per container).
 * Only {@code run} acts on it: a {@code score} or {@code eval} started in the same container (exec) inherits
 * the variable and must not remove the running app's copies. Not a {@code RERANKER_*} variable, as those are
 * the app's settings; this one is read before any of them, and before either library loads, so that this
 * process's own copies are never among those removed.
 */
final class LeftoverNativeLibraries {

    static final String OWNS_TMPDIR = "KAFKA_RERANKER_OWNS_TMPDIR";
    /** What each library's loader names its copy (ai.onnxruntime.OnnxRuntime, org.rocksdb.NativeLibraryLoader). */
    static final String PATTERN = "{onnxruntime-java*,librocksdbjni*.so}";

    private static final Logger LOG = LoggerFactory.getLogger(LeftoverNativeLibraries.class);

    private LeftoverNativeLibraries() {
    }

    /** At {@code run}'s start: removes the leftovers in java.io.tmpdir if the environment says this process owns it. */
    static void removeIfOwned(Map<String, String> env) {
        removeIfOwned(env, Path.of(System.getProperty("java.io.tmpdir")));
    }

    static void removeIfOwned(Map<String, String> env, Path tmp) {
        String owns = env.get(OWNS_TMPDIR);
        if (owns == null || owns.equalsIgnoreCase("false")) {
            return;
        }
        if (!owns.equalsIgnoreCase("true")) {
            LOG.warn("{}={} is neither true nor false: native library copies left in java.io.tmpdir are not removed", OWNS_TMPDIR, owns);
            return;
        }
        List<Path> removed = remove(tmp);
        if (!removed.isEmpty()) {
            LOG.info("Removed {} native library copies that killed processes left in {} ({}=true): {}", removed.size(), tmp,
                    OWNS_TMPDIR, removed.stream().map(p -> p.getFileName().toString()).toList());
        }
    }

    /**
     * Removes every leftover copy in {@code dir}; returns those removed. One that cannot be removed (another
     * user's, say) is logged and skipped, and so is a tmpdir that cannot be read: leftovers cost disk, not
     * correctness, so the app starts anyway.
     */
    static List<Path> remove(Path dir) {
        List<Path> removed = new ArrayList<>();
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(dir, PATTERN)) {
            for (Path leftover : leftovers) {
                try {
                    CrashedState.deleteTree(leftover);
                    removed.add(leftover);
                } catch (IOException | UncheckedIOException e) {
                    LOG.warn("Could not remove {}, a native library copy an earlier process left: {}", leftover, e.toString());
                }
            }
        } catch (NoSuchFileException e) {
            LOG.warn("java.io.tmpdir {} does not exist: the native libraries cannot be copied there either", dir);
        } catch (IOException | DirectoryIteratorException e) {
            LOG.warn("Could not list {} for the native library copies earlier processes left: {}", dir, e.toString());
        }
        return removed;
    }
}
