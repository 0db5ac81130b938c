package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.FakeHealthScorer;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the dashboard and the alert rules read from the scrape, on a real model (the BERT cross-encoder fixture). */
class RerankerMetricsTest {

    private static final Path FIXTURE = Path.of("..", "tools", "fixtures", "bert-cross-encoder");

    private static void assertLine(String scrape, String line) {
        assertTrue(scrape.lines().anyMatch(l -> l.equals(line)), "no line '" + line + "' in:\n" + scrape);
    }

    @Test
    void theScrapeHoldsWhatTheDashboardAndTheAlertsRead() throws Exception {
        FakeHealthScorer[] scorer = new FakeHealthScorer[1];
        try (ModelRegistry models = ModelRegistry.withLoader(List.of(new ModelRegistry.Served("ranker", FIXTURE,
                        InferenceOptions.defaults().withDevice(Device.parse("cpu")))), "ranker",
                m -> scorer[0] = new FakeHealthScorer(Scorers.open(ModelDirectory.load(m.dir()), m.options())));
             RerankerMetrics metrics = new RerankerMetrics(models)) {
            String before = metrics.scrape();
            // Counters exist at zero before anything happened, so the first increment shows in rate().
            assertLine(before, "rerank_queries_total{complete=\"true\",model=\"ranker\"} 0.0");
            assertLine(before, "rerank_pairs_scored_total{model=\"ranker\"} 0.0");
            assertLine(before, "rerank_dead_letters_total{reason=\"deserialization\"} 0.0");
            assertLine(before, "rerank_model_state{model=\"ranker\",state=\"healthy\"} 1.0");
            assertLine(before, "rerank_model_state{model=\"ranker\",state=\"unavailable\"} 0.0");

            scorer[0].report(new ModelHealth(ModelHealth.State.UNAVAILABLE, 3, "injected"));
            metrics.inFlightChanged(2);
            metrics.inFlightChanged(-1);
            metrics.queryEmitted("ranker", 8, 30, 1_200, true);
            String after = metrics.scrape();
            assertLine(after, "rerank_model_state{model=\"ranker\",state=\"unavailable\"} 1.0");
            assertLine(after, "rerank_model_state{model=\"ranker\",state=\"healthy\"} 0.0");
            assertLine(after, "rerank_inflight_queries 1.0");
            assertLine(after, "rerank_pairs_scored_total{model=\"ranker\"} 8.0");
            // The latency histograms' buckets, which the dashboard's quantiles read.
            assertLine(after, "rerank_scoring_latency_seconds_bucket{model=\"ranker\",le=\"0.025\"} 0");
            assertLine(after, "rerank_scoring_latency_seconds_bucket{model=\"ranker\",le=\"0.05\"} 1");
            assertLine(after, "rerank_end_to_end_latency_seconds_bucket{model=\"ranker\",le=\"2.5\"} 1");
        }
    }
}
