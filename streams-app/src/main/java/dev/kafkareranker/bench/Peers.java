package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** (f): the peers' figures and this project's on the same sorted batches, and on which pairs. */
record Peers(JsonNode python, Phase fp32, Phase int8, Int8Agreement agreement, String pairs) {

    private double pairsPerSecond(String peer) {
        return python.path(peer).path("pairs_per_second").asDouble(Double.NaN);
    }

    ObjectNode json() {
        ObjectNode node = BenchEnvironment.JSON.createObjectNode();
        node.put("pairs_source", pairs);
        node.set("python", python);
        node.set("java_fp32", fp32.json());
        if (int8 != null) {
            node.set("java_int8", int8.json());
            node.put("int8_top10_same_order_fraction", agreement.sameOrderFraction());
            node.put("int8_top10_same_set_fraction", agreement.sameSetFraction());
            node.put("int8_top10_queries", agreement.queries());
            node.put("int8_mean_abs_score_error", agreement.meanAbsError());
            node.put("int8_max_abs_score_error", agreement.maxAbsError());
        }
        return node;
    }

    void ratios(ObjectNode report) {
        double st = pairsPerSecond("sentence_transformers");
        report.put("fp32_over_sentence_transformers", fp32.pairsPerSecond() / st);
        report.put("onnxruntime_python_over_sentence_transformers", pairsPerSecond("onnxruntime_python_fp32") / st);
        report.put("fp32_over_onnxruntime_python", fp32.pairsPerSecond() / pairsPerSecond("onnxruntime_python_fp32"));
        if (int8 != null) {
            report.put("int8_over_sentence_transformers", int8.pairsPerSecond() / st);
        }
    }

    void print(PrintStream out) {
        double st = pairsPerSecond("sentence_transformers");
        out.println();
        out.println("(f) pairs: " + pairs);
        out.println("| peer (same model, pairs, threads; length-sorted batches of 32) | pairs/s | over sentence-transformers |");
        out.println("|---|---:|---:|");
        for (String peer : List.of("sentence_transformers", "onnxruntime_python_fp32", "onnxruntime_python_int8")) {
            if (python.has(peer)) {
                out.printf(Locale.ROOT, "| %s | %.1f | %.3f |%n", peer, pairsPerSecond(peer), pairsPerSecond(peer) / st);
            }
        }
        out.printf(Locale.ROOT, "| this project fp32 | %.1f | %.3f |%n", fp32.pairsPerSecond(), fp32.pairsPerSecond() / st);
        if (int8 != null) {
            out.printf(Locale.ROOT, "| this project int8 | %.1f | %.3f |%n", int8.pairsPerSecond(), int8.pairsPerSecond() / st);
            out.printf(Locale.ROOT, "int8 top-10 in fp32's order on %.1f%% of %d queries, the same top-10 set on %.1f%%; "
                            + "|fp32 - int8| score error mean %.4f, max %.4f%n", 100 * agreement.sameOrderFraction(),
                    agreement.queries(), 100 * agreement.sameSetFraction(), agreement.meanAbsError(), agreement.maxAbsError());
        }
    }
}
