package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How a {@code reranker} command ended, run as a user's shell runs it: {@code Main} in a child JVM on this test's
 * class path, without the machine's {@code RERANKER_*} variables (the cases are about what the command line and
 * the file say), its stdout discarded. Its exit code and its stderr's non-blank lines.
 */
record MainOutcome(int code, List<String> stderr) {

    /** {@code Main ARGS} with {@code stdin} on its standard input (closed after). */
    static MainOutcome run(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(name -> name.startsWith("RERANKER_"));
        Process p = builder.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        // Only against a hang: a JVM start on a loaded machine.
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the command did not end: " + command);
        return new MainOutcome(p.exitValue(), err.lines().filter(l -> !l.isBlank()).toList());
    }

    /** A user's mistake: exit code 2, one line of the command's own ("reranker: ...") holding every fragment, and no stack trace. */
    void assertOneLine(String... fragments) {
        assertEquals(2, code, stderr.toString());
        List<String> ours = stderr.stream().filter(l -> l.startsWith("reranker:")).toList();
        assertEquals(1, ours.size(), stderr.toString());
        for (String fragment : fragments) {
            assertTrue(ours.get(0).contains(fragment), ours.get(0) + " lacks " + fragment);
        }
        assertTrue(stderr.stream().noneMatch(l -> l.trim().startsWith("at ")), "no stack trace: " + stderr);
    }
}
