package dev.kafkareranker.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The bench's printed summary: throughput per phase, feed capacity, the peers, and the latency split. */
final class BenchTable {

    private BenchTable() {
    }

    static void print(PrintStream out, Phase raw, Phase engine, PipelineResult pipeline, Phase tokenizer, List<Phase> feed,
                      Optional<Peers> peers) {
        out.println();
        out.println("| phase | pairs/s | tokens/s | vs raw | padding ratio | batch rows (count) |");
        out.println("|---|---:|---:|---:|---:|---|");
        List<Phase> phases = new ArrayList<>(List.of(raw, engine, pipeline.throughput()));
        phases.addAll(feed);
        phases.add(tokenizer);
        for (Phase p : phases) {
            out.printf(Locale.ROOT, "| %s | %.1f | %.0f | %.3f | %.3f | %s |%n", p.name(), p.pairsPerSecond(), p.tokensPerSecond(),
                    p.pairsPerSecond() / raw.pairsPerSecond(), p.paddingRatio(), p.batchRows());
        }
        if (feed.size() == 2) {
            out.printf(Locale.ROOT, "%nfeed_over_tokenizer %.3f (feed-engine over tokenizer %.3f)%n",
                    feed.get(1).pairsPerSecond() / tokenizer.pairsPerSecond(), feed.get(0).pairsPerSecond() / tokenizer.pairsPerSecond());
        }
        peers.ifPresent(p -> p.print(out));
        out.println();
        out.printf(Locale.ROOT, "latency at %.2f queries/s (half of the pipeline's peak), %d queries, commit.interval.ms=%d:%n",
                pipeline.targetQueriesPerSecond(), pipeline.latencyQueries(), pipeline.commitIntervalMs());
        out.println("| ms | p50 | p95 | p99 | max |");
        out.println("|---|---:|---:|---:|---:|");
        row(out, "last candidate -> result", pipeline.latencyMs());
        row(out, "scoring (model)", pipeline.scoringMs());
        row(out, "added (latency - scoring)", pipeline.addedMs());
        row(out, "  of which: last candidate -> left gathering", pipeline.toGathererMs());
        row(out, "  of which: scored -> result read", pipeline.resultHopMs());
        row(out, "one exactly-once hop alone (the floor)", pipeline.exactlyOnceHopMs());
        out.println();
    }

    private static void row(PrintStream out, String name, Percentiles p) {
        out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f |%n", name, p.p50(), p.p95(), p.p99(), p.max());
    }
}
