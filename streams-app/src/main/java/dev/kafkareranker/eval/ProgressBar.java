package dev.kafkareranker.eval;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar, rewritten in place with a carriage return: {@code reranking 12/30 [########............] 40% 35s}. */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final int total;
    private final long start = System.nanoTime();
    private int shown = -1;

    ProgressBar(PrintStream out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = total;
    }

    /** Redraws the line when {@code done} changed; cheap to call on every poll. */
    void update(int done) {
        if (done == shown) {
            return;
        }
        shown = done;
        out.print("\r" + render(done));
        out.flush();
    }

    /** Ends the line, so later output starts on a fresh one. */
    void finish() {
        out.println();
        out.flush();
    }

    String render(int done) {
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        return String.format(Locale.ROOT, "%s %d/%d [%s%s] %3d%% %ds", label, done, total, "#".repeat(filled),
                ".".repeat(WIDTH - filled), total == 0 ? 100 : 100 * done / total, seconds);
    }
}
