package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the bench finds what it needs (MED, the tools, its cache) and the machine facts it reports beside each figure. */
final class BenchEnvironment {

    /** The report's mapper: indented, as the report is read by people too. */
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The in-process registry every phase shares: the bench's own producer, app and reader run in this JVM. */
    static final String REGISTRY = "mock://reranker-bench";

    private BenchEnvironment() {
    }

    /** ../shared/data/med from the repository root or a module directory. */
    static Optional<Path> med() {
        for (Path candidate : new Path[] {Path.of("..", "shared", "data", "med"), Path.of("..", "..", "shared", "data", "med")}) {
            if (Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The repository's tools/ (for the peers and the MiniLM build), from the root or a module directory. */
    static Optional<Path> tools() {
        for (Path candidate : new Path[] {Path.of("tools"), Path.of("..", "tools")}) {
            if (Files.isDirectory(candidate.resolve("reranker_tools"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static Path requireTools(Optional<Path> tools) {
        return tools.orElseThrow(() -> new IllegalStateException("bench: --peers-python and --minilm-weights need the repository's "
                + "tools/ (run the bench from the repository root)"));
    }

    /** Where built bench models are cached between runs: never in the repository (90 MB). */
    static Path cacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "kafka-reranker", "bench");
    }

    /** The 1-minute load average, noted beside each figure: this machine is shared. */
    static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** Time the JIT's compilers have spent so far, summed over its threads; 0 where the JVM does not say. */
    static long compileMs() {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }
}
