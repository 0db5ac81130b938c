package dev.kafkareranker.eval;

import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code reranker eval}: BM25 against BM25 plus the reranker on a test collection, through the real
 * pipeline. Prints a table on stdout, a progress bar on stderr, and with {@code --report} writes JSON.
 */
public final class EvalCommand {

    public static final String USAGE =
            "reranker eval [--collection DIR] [--format smart|cranfield|trec|beir] [--k N] [--model-dir DIR] [--report FILE] [--queries N]";

    /** The MED collection next to the repository, where this project's shared data lives. */
    static final String DEFAULT_COLLECTION = "../shared/data/med";

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;
    private final Path workingDir;

    public EvalCommand(PrintStream out, PrintStream err, Map<String, String> env, Path workingDir) {
        this.out = out;
        this.err = err;
        this.env = env;
        this.workingDir = workingDir;
    }

    public int run(List<String> argList) throws Exception {
        Deque<String> args = new ArrayDeque<>(argList);
        String collection = DEFAULT_COLLECTION;
        Optional<CollectionFormat> format = Optional.empty();
        int k = EvalOptions.DEFAULT_K;
        Optional<Path> modelDir = Optional.empty();
        Optional<Path> report = Optional.empty();
        int queries = 0;
        while (!args.isEmpty()) {
            String arg = args.removeFirst();
            switch (arg) {
                case "--collection" -> collection = value(args, arg);
                case "--format" -> format = Optional.of(CollectionFormat.parse(value(args, arg)));
                case "--k" -> k = number(args, arg);
                case "--model-dir" -> modelDir = Optional.of(Path.of(value(args, arg)));
                case "--report" -> report = Optional.of(Path.of(value(args, arg)));
                case "--queries" -> {
                    queries = number(args, arg);
                    if (queries < 1) {
                        throw new IllegalArgumentException("--queries must be at least 1: " + queries);
                    }
                }
                case "-h", "--help" -> {
                    out.println("usage: " + USAGE);
                    return 0;
                }
                default -> throw new IllegalArgumentException("eval: unknown argument '" + arg + "'\nusage: " + USAGE);
            }
        }
        EvalOptions options = new EvalOptions(resolveCollection(collection, workingDir, repositoryRoots(workingDir)), format, k,
                modelDir, queries);
        EvalReport result = new EvalRun(options, env, err).run();
        out.print(result.table());
        if (report.isPresent()) {
            result.writeJson(report.get());
            out.println("eval: report written to " + report.get());
        }
        return 0;
    }

    /**
     * The collection directory: {@code given} as it is when absolute, else resolved against the working
     * directory and then against each repository root, so that the default {@code ../shared/data/med}
     * works from the repository root and from anywhere inside it.
     */
    static Path resolveCollection(String given, Path workingDir, List<Path> roots) {
        Path path = Path.of(given);
        Set<Path> tried = new LinkedHashSet<>();
        if (path.isAbsolute()) {
            tried.add(path.normalize());
        } else {
            tried.add(workingDir.resolve(path).toAbsolutePath().normalize());
            for (Path root : roots) {
                tried.add(root.resolve(path).toAbsolutePath().normalize());
            }
        }
        for (Path candidate : tried) {
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("eval: collection directory " + given + " not found (looked at "
                + String.join(", ", tried.stream().map(Path::toString).toList()) + "); pass --collection DIR");
    }

    /**
     * Repository roots (a directory holding {@code bin/reranker}) above the working directory and above
     * the jar or classes directory this class was loaded from.
     */
    static List<Path> repositoryRoots(Path workingDir) {
        List<Path> roots = new ArrayList<>();
        rootAbove(workingDir.toAbsolutePath()).ifPresent(roots::add);
        codeLocation().flatMap(EvalCommand::rootAbove).filter(r -> !roots.contains(r)).ifPresent(roots::add);
        return roots;
    }

    private static Optional<Path> rootAbove(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("bin").resolve("reranker")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> codeLocation() {
        try {
            CodeSource source = EvalCommand.class.getProtectionDomain().getCodeSource();
            return source == null ? Optional.empty() : Optional.of(Path.of(source.getLocation().toURI()).toAbsolutePath());
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String value(Deque<String> args, String option) {
        if (args.isEmpty() || args.peekFirst().startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value\nusage: " + USAGE);
        }
        return args.removeFirst();
    }

    private static int number(Deque<String> args, String option) {
        String value = value(args, option);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, not '" + value + "'");
        }
    }
}
