package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A pipeline phase's figures: (c)'s or (e)'s throughput, and for (c) the latency (d) at half of it.
 *
 * @param toGathererMs     last candidate sent until its query left gathering (the result's emitted_time): the
 *                         producer, the intake and its transaction, the repartition topic, a busy stream thread
 * @param resultHopMs      scored until the result was read: forwarding, the result's transaction, the reader
 * @param exactlyOnceHopMs one exactly-once hop alone on the same broker at the same rate (ExactlyOnceHop): the floor
 */
record PipelineResult(Phase throughput, double targetQueriesPerSecond, Percentiles latencyMs, Percentiles addedMs,
                      Percentiles scoringMs, Percentiles toGathererMs, Percentiles resultHopMs, Percentiles exactlyOnceHopMs,
                      int latencyQueries, long commitIntervalMs) {

    /** A throughput phase without latency: (e). */
    static PipelineResult throughputOnly(Phase throughput, long commitIntervalMs) {
        Percentiles none = Percentiles.of(new double[] {0});
        return new PipelineResult(throughput, 0, none, none, none, none, none, none, 0, commitIntervalMs);
    }

    ObjectNode latencyJson() {
        ObjectNode node = BenchEnvironment.JSON.createObjectNode();
        node.put("queries", latencyQueries);
        node.put("offered_queries_per_second", targetQueriesPerSecond);
        node.put("commit_interval_ms", commitIntervalMs);
        put(node.putObject("last_candidate_to_result_ms"), latencyMs);
        put(node.putObject("scoring_ms"), scoringMs);
        put(node.putObject("added_ms"), addedMs);
        put(node.putObject("last_candidate_to_emitted_ms"), toGathererMs);
        put(node.putObject("scored_to_result_ms"), resultHopMs);
        put(node.putObject("exactly_once_hop_ms"), exactlyOnceHopMs);
        return node;
    }

    private static void put(ObjectNode node, Percentiles p) {
        node.put("p50", p.p50());
        node.put("p95", p.p95());
        node.put("p99", p.p99());
        node.put("max", p.max());
    }
}
