package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No call in the gather package may hold a stream thread: the model is never waited for (the stream
 * thread hands queries over and looks again later), and failures pause the input instead of sleeping.
 * Reads the package's sources, comments and string literals taken out, and fails on a call that blocks:
 * {@code join()}, a no-argument {@code get()} (a future's; a store's {@code get(key)} takes an argument,
 * and so no other no-argument get is used in the package), {@code get} with a timeout, sleeps, waits,
 * awaits, parks, acquires and takes.
 */
class BlockingCallScanTest {

    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "kafkareranker", "gather");
    private static final Pattern BLOCKING = Pattern.compile(
            "\\.join\\(\\s*\\)|\\.get\\(\\s*\\)|\\.get\\([^()]*TimeUnit|\\bsleep\\(|\\.wait\\(|\\.await\\w*\\(|LockSupport\\.park"
                    + "|\\.acquire\\w*\\(|\\.take\\(\\s*\\)|\\.invokeAll\\(|\\.awaitTermination\\(");

    /** Removes comments and string and char literals, keeping line breaks so that reported lines stay right. */
    static String code(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            char c = source.charAt(i);
            if (source.startsWith("//", i)) {
                while (i < source.length() && source.charAt(i) != '\n') {
                    i++;
                }
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? source.length() : end + 2;
                source.substring(i, end).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
                i = end;
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                end = end < 0 ? source.length() : end + 3;
                source.substring(i, end).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
                out.append("\"\"");
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < source.length() && source.charAt(j) != c) {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                out.append(c).append(c);
                i = j + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    static List<String> blockingCalls(String file, String source) {
        List<String> found = new ArrayList<>();
        String[] lines = code(source).split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            Matcher m = BLOCKING.matcher(lines[n]);
            if (m.find()) {
                found.add(file + ":" + (n + 1) + ": " + lines[n].strip());
            }
        }
        return found;
    }

    @Test
    void noSourceInTheGatherPackageWaitsOnTheStreamThread() throws IOException {
        List<String> found = new ArrayList<>();
        int files = 0;
        try (Stream<Path> sources = Files.list(SOURCES)) {
            for (Path p : sources.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                files++;
                found.addAll(blockingCalls(p.getFileName().toString(), Files.readString(p)));
            }
        }
        assertTrue(files > 20, "the scan read the package: " + files + " files in " + SOURCES.toAbsolutePath());
        assertEquals(List.of(), found, "blocking calls in the gather package");
    }

    @Test
    void theScanFindsWhatItLooksForAndNotAStoresGetOrAComment() {
        String source = """
                class X {
                    // future.join() in a comment is fine
                    /* so is scoring.get() here */
                    String s = "a string with .join() and Thread.sleep(1)";
                    void ok() { store.get(key); map.get("k"); future.getNow(null); counts.intValue(); }
                    void a() { future.join(); }
                    void b() { future.get(); }
                    void c() { future.get(5, TimeUnit.SECONDS); }
                    void d() { Thread.sleep(1_000); }
                    void e() { latch.await(); }
                    void f() { lock.wait(); }
                    void g() { LockSupport.parkNanos(1); }
                }
                """;
        List<String> found = blockingCalls("X.java", source);
        assertEquals(7, found.size(), found.toString());
        assertTrue(found.get(0).startsWith("X.java:6:"), found.toString());
    }
}
