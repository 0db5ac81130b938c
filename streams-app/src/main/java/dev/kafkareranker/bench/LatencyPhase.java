package dev.kafkareranker.bench;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * (d): latency through the running pipeline at half of (c)'s throughput, split at the result's emitted_time,
 * beside one exactly-once hop alone on the same broker at the same rate ({@link ExactlyOnceHop}: the floor
 * under the added latency).
 */
final class LatencyPhase {

    private final PrintStream out;
    private final BenchBroker kafka;
    private final CandidateSender sender;
    private final ResultCollector collector;
    private final String run;

    LatencyPhase(PrintStream out, BenchBroker kafka, CandidateSender sender, ResultCollector collector, String run) {
        this.out = out;
        this.kafka = kafka;
        this.sender = sender;
        this.collector = collector;
        this.run = run;
    }

    /** When a query's last candidate was sent, on both clocks: nanos against the reader's, wall time against the app's emitted_time. */
    private record Sent(long nanos, long wallMs) {}

    /**
     * @param queries      how many queries to send: at least the workload's
     * @param resultsSoFar results the collector holds already (warm-up and (c))
     */
    PipelineResult measure(Phase throughput, Workload workload, int candidatesPerQuery, int queries, int resultsSoFar,
                           long commitIntervalMs) throws Exception {
        // Half of the pipeline's own peak (c), so queueing shows without saturation; half of raw (a) would overload a
        // pipeline slower than half of raw, and the latency would then be the backlog's, not the pipeline's.
        double queriesPerSecond = 0.5 * throughput.pairsPerSecond() / candidatesPerQuery;
        long intervalNanos = (long) (1e9 / queriesPerSecond);
        Map<String, Sent> lastSent = new ConcurrentHashMap<>();
        queries = Math.max(queries, workload.queries().size());
        long next = System.nanoTime();
        for (int i = 0; i < queries; i++) {
            Workload.Query base = workload.queries().get(i % workload.queries().size());
            Workload.Query q = new Workload.Query(base.id() + "-lat" + i, base.text(), base.passages());
            while (System.nanoTime() < next) {
                Thread.sleep(1);
            }
            List<RetrievalCandidate> candidates = workload.candidates(q);
            sender.send(candidates.subList(0, candidates.size() - 1));
            lastSent.put(q.id(), new Sent(System.nanoTime(), System.currentTimeMillis()));
            sender.send(candidates.subList(candidates.size() - 1, candidates.size()));
            next += intervalNanos;
        }
        collector.await(resultsSoFar + queries, Duration.ofMinutes(10));
        double[] latency = new double[queries];
        double[] added = new double[queries];
        double[] scoring = new double[queries];
        // The app's clock is this JVM's (or, with --bootstrap, the same machine's): emitted_time splits the latency.
        double[] toGatherer = new double[queries];
        double[] resultHop = new double[queries];
        int i = 0;
        for (Map.Entry<String, Sent> e : lastSent.entrySet()) {
            ResultCollector.Received r = collector.received().get(e.getKey());
            latency[i] = (r.nanos() - e.getValue().nanos()) / 1e6;
            scoring[i] = r.scoringMs();
            added[i] = latency[i] - r.scoringMs();
            toGatherer[i] = r.emittedWallMs() - e.getValue().wallMs();
            resultHop[i] = r.wallMs() - (r.emittedWallMs() + r.scoringMs());
            i++;
        }
        out.printf(Locale.ROOT, "bench: (d) latency at %.2f queries/s done%n", queriesPerSecond);
        return new PipelineResult(throughput, queriesPerSecond, Percentiles.of(latency), Percentiles.of(added),
                Percentiles.of(scoring), Percentiles.of(toGatherer), Percentiles.of(resultHop), Percentiles.of(hop(queries, intervalNanos)),
                queries, commitIntervalMs);
    }

    /** The floor beside (d); empty (NaN in the report) when it fails, which the output says. */
    private double[] hop(int hops, long intervalNanos) throws Exception {
        String source = "bench" + run + "-hop-source";
        String sink = "bench" + run + "-hop-sink";
        kafka.createTopics(1, source, sink);
        try {
            double[] hop = ExactlyOnceHop.measure(kafka.bootstrapServers(), source, sink, hops, intervalNanos);
            out.printf(Locale.ROOT, "bench: (d) one exactly-once hop alone, at the same rate, done%n");
            return hop;
        } catch (RuntimeException e) {
            // A reference beside (d), not (d) itself: its failure leaves (c) and (d) as measured, and says so.
            out.printf(Locale.ROOT, "bench: (d) one exactly-once hop alone failed, reported as NaN: %s%n", e);
            return new double[0];
        }
    }
}
