package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/** One measured phase: pairs and tokens in a time, with the batches it ran. */
record Phase(String name, int pairs, long realTokens, long nanos, double paddingRatio,
             Map<Integer, Long> batchRows, String provider) {

    double pairsPerSecond() {
        return pairs / (nanos / 1e9);
    }

    double tokensPerSecond() {
        return realTokens / (nanos / 1e9);
    }

    ObjectNode json() {
        ObjectNode node = BenchEnvironment.JSON.createObjectNode();
        node.put("pairs", pairs);
        node.put("seconds", nanos / 1e9);
        node.put("pairs_per_second", pairsPerSecond());
        node.put("tokens_per_second", tokensPerSecond());
        node.put("padding_ratio", paddingRatio);
        ObjectNode histogram = node.putObject("batch_rows_histogram");
        batchRows.forEach((rows, count) -> histogram.put(Integer.toString(rows), count));
        return node;
    }
}
