package dev.kafkareranker.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.inference.EngineStats;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Provenance;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.serving.ModelRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code reranker score}: scores pairs given as JSON lines, without Kafka, to check a model. A line is
 * {@code {"query": "...", "document": "..."}} or {@code {"query": "...", "documents": ["...", ...]}};
 * each document gets one output line with its logit and score and what of it was read (the fields
 * RankedResults carries: tokens scored and cut, chunks, the best chunk's characters). A last line on
 * standard error says how fast the lines were scored, after the model loaded: the figures docs/benchmarks.md
 * compares for long documents. When the model to score with (model.default, else the first of models) has a first
 * stage, both are loaded and each line also says which stage ranked the document and the first stage's score, as
 * RankedResults entries do; the last line then gives each stage's rows.
 */
final class ScoreCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;
    private final PrintStream err;

    ScoreCommand(PrintStream out) {
        this(out, System.err);
    }

    ScoreCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(RerankerConfig config, BufferedReader in) throws IOException {
        List<ModelRegistry.Served> served = config.servedModels();
        String name = config.defaultModel(served);
        ModelRegistry.Served model = served.stream().filter(m -> m.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("model.default '" + name + "' is not one of the served models"));
        // A model with a first stage is scored as the pipeline scores it: both models open, the cascade ranking.
        List<ModelRegistry.Served> needed = model.firstStage().map(first -> served.stream()
                .filter(m -> m.name().equals(name) || m.name().equals(first.model())).toList()).orElse(List.of());
        try (ModelRegistry cascade = needed.isEmpty() ? null : ModelRegistry.open(needed, name);
             Scorer scorer = cascade != null ? cascade.forModel(name) : ModelRegistry.load(model)) {
            Totals totals = new Totals();
            long started = System.nanoTime();
            int lineNo = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException("line " + lineNo + ": not a JSON object: " + e.getOriginalMessage());
                }
                if (!node.path("query").isTextual()) {
                    throw new IllegalArgumentException("line " + lineNo + ": needs a \"query\" string");
                }
                List<String> documents = new ArrayList<>();
                if (node.path("document").isTextual()) {
                    documents.add(node.get("document").asText());
                }
                node.path("documents").forEach(d -> documents.add(d.asText()));
                if (documents.isEmpty()) {
                    throw new IllegalArgumentException("line " + lineNo + ": needs \"document\" or \"documents\"");
                }
                String query = node.get("query").asText();
                List<Score> scores = scorer.score(query, documents);
                for (int i = 0; i < documents.size(); i++) {
                    out.println(row(query, documents.get(i), scores.get(i), scorer.modelName()));
                    totals.add(scores.get(i));
                }
            }
            Map<String, Scorer> engines = new LinkedHashMap<>();
            if (cascade == null) {
                engines.put("the model", scorer);
            } else {
                needed.forEach(m -> engines.put(m.name(), cascade.slot(m.name()).currentScorer()));
            }
            totals.report(err, lineNo, System.nanoTime() - started, engines);
        }
        return 0;
    }

    static ObjectNode row(String query, String document, Score score, String model) {
        ObjectNode row = JSON.createObjectNode();
        row.put("query", query);
        row.put("document", document);
        row.put("logit", score.logit());
        row.put("score", score.score());
        row.put("model", model);
        score.provenance().ifPresent(p -> {
            row.put("tokens_scored", p.tokensScored());
            row.put("tokens_cut", p.tokensCut());
            row.put("chunks", p.chunks());
            row.put("best_chunk_start", p.start());
            row.put("best_chunk_end", p.end());
        });
        score.stage().ifPresent(stage -> {
            row.put("stage", stage.model());
            row.put("first_stage_score", stage.firstStageScore());
        });
        return row;
    }

    /** What was scored, for the last line. */
    private static final class Totals {
        long documents;
        long rows;
        long tokens;
        long cut;

        void add(Score score) {
            documents++;
            score.provenance().ifPresent(p -> {
                rows += p.chunks();
                tokens += p.tokensScored();
                cut += p.tokensCut();
            });
        }

        /** @param engines the model's engine, or each stage's of a cascade by its served name (as stage names it) */
        void report(PrintStream err, int lines, long nanos, Map<String, Scorer> engines) {
            double seconds = nanos / 1e9;
            StringBuilder model = new StringBuilder();
            for (Map.Entry<String, Scorer> e : engines.entrySet()) {
                if (e.getValue() instanceof InferenceEngine engine) {
                    EngineStats.Snapshot stats = engine.stats();
                    model.append(String.format(Locale.ROOT, "; %s ran %d rows of %d tokens (%.0f tokens/s) in %d batches",
                            e.getKey(), stats.rows(), stats.realTokens(),
                            stats.realTokens() / Math.max(seconds, 1e-9), stats.batches()));
                }
            }
            err.printf(Locale.ROOT, "score: %d documents of %d lines in %.2f s after the model loaded: %.2f documents/s, %d passage tokens"
                            + " read (%d cut) = %.0f passage tokens/s, %d rows%s%n", documents, lines, seconds, documents / Math.max(seconds, 1e-9),
                    tokens, cut, tokens / Math.max(seconds, 1e-9), rows, model);
        }
    }
}
