package dev.kafkareranker.app;

import dev.kafkareranker.gather.Candidates;
import dev.kafkareranker.gather.CountingExceptionHandlers;
import dev.kafkareranker.gather.DeadLetters;
import dev.kafkareranker.gather.GatherListener;
import dev.kafkareranker.inference.EngineStats;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.ModelHealth;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.serving.ModelRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Locale;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The pipeline's metrics, in Micrometer, exposed for Prometheus: what gathering reports (queries,
 * pairs, latencies, pending queries, dead letters by reason), each model's engine (batches, rows,
 * real and padded tokens, queue delay, model time), which model versions serve, and Kafka Streams'
 * own metrics. {@code deploy/observability/} holds a Grafana dashboard and Prometheus alert rules built on these
 * names; a test evaluates them against a real Prometheus scraping a running app, so a rename here shows there.
 */
final class RerankerMetrics implements GatherListener, AutoCloseable {

    /**
     * Histogram buckets of the two latency timers (Prometheus {@code _bucket} series, for quantiles in the
     * dashboard): fixed boundaries from 5 ms to 2 min, not Micrometer's ~70 default ones per model.
     */
    private static final Duration[] LATENCY_BUCKETS = java.util.stream.LongStream.of(
                    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000)
            .mapToObj(Duration::ofMillis).toArray(Duration[]::new);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ModelRegistry models;
    private final MultiGauge modelInfo;
    private KafkaStreamsMetrics streamsMetrics;

    RerankerMetrics(ModelRegistry models) {
        this.models = models;
        Gauge.builder("rerank.pending.queries", pending, AtomicInteger::get)
                .description("Queries being gathered, over all tasks of this instance").register(registry);
        Gauge.builder("rerank.inflight.queries", inFlight, AtomicInteger::get)
                .description("Queries handed to a model and not yet forwarded, over all tasks of this instance").register(registry);
        modelInfo = MultiGauge.builder("rerank.model.info")
                .description("1 for each served model, with its current version and execution provider").register(registry);
        for (String name : models.names()) {
            engineMeters(name);
            // At zero from the start, so the first query counts in rate() and increase(): a counter that first
            // appears with its first increment shows none (Prometheus sees no earlier sample to grow from).
            pairsScored(name);
            queries(name, true);
            queries(name, false);
        }
        for (String reason : KNOWN_DEAD_LETTER_REASONS) {
            deadLetters(reason);
        }
        refreshModelInfo();
    }

    /**
     * The dead-letter reasons counted from the start at zero, for the same reason; a reason not listed here is
     * counted from its first dead letter on.
     */
    private static final List<String> KNOWN_DEAD_LETTER_REASONS = List.of(CountingExceptionHandlers.REASON_DESERIALIZATION,
            Candidates.REASON_NULL_VALUE, Candidates.REASON_WRONG_TYPE, Candidates.REASON_BLANK_FIELD, Candidates.REASON_ID_TOO_LONG,
            Candidates.REASON_METADATA_TOO_LARGE, Candidates.REASON_INVALID_COUNT, Candidates.REASON_INVALID_TOP_K,
            Candidates.REASON_TOO_LARGE, CountingExceptionHandlers.REASON_TOO_LARGE, CountingExceptionHandlers.REASON_INVALID,
            CountingExceptionHandlers.REASON_PROCESSING, DeadLetters.REASON_UNKNOWN_MODEL, DeadLetters.REASON_SCORING_FAILED,
            DeadLetters.REASON_LATE, DeadLetters.REASON_MODEL_CONFLICT);

    private Counter pairsScored(String model) {
        return Counter.builder("rerank.pairs.scored").description("Pairs scored").tag("model", model).register(registry);
    }

    private Counter queries(String model, boolean complete) {
        return Counter.builder("rerank.queries").description("Queries ranked and published")
                .tags("model", model, "complete", Boolean.toString(complete)).register(registry);
    }

    private Counter deadLetters(String reason) {
        return Counter.builder("rerank.dead.letters").description("Records sent to the dead-letter topic, by reason")
                .tag("reason", reason).register(registry);
    }

    private void engineMeters(String name) {
        Tags tags = Tags.of("model", name);
        counter("rerank.engine.batches", "Model runs", tags, name, s -> s.batches());
        counter("rerank.engine.rows", "Sequences run (pairs, or texts for bi-encoders)", tags, name, s -> s.rows());
        counter("rerank.engine.tokens.real", "Tokens the sequences hold", tags, name, s -> s.realTokens());
        counter("rerank.engine.tokens.padded", "Tokens the model computed, padding included", tags, name, s -> s.paddedTokens());
        counter("rerank.engine.failed.batches", "Model runs that failed (and were split and retried)", tags, name, s -> s.failedBatches());
        counter("rerank.engine.passages.chunked", "Passages scored in more than one chunk (long_documents=chunk)", tags, name,
                s -> s.passages().chunked());
        counter("rerank.engine.passages.chunk.rows", "Rows the passages scored in chunks took", tags, name, s -> s.passages().chunkRows());
        counter("rerank.engine.passages.over.max.chunks", "Passages longer than max_chunks chunks: the rest of each was cut", tags, name,
                s -> s.passages().overMaxChunks());
        counter("rerank.engine.passages.cut", "Passages with tokens the model never read (max length, max_document_tokens, max_chunks)",
                tags, name, s -> s.passages().cut());
        Gauge.builder("rerank.engine.padding.ratio", this, m -> stats(name).paddingRatio())
                .description("Computed over real tokens since the current version was loaded").tags(tags).register(registry);
        FunctionTimer.builder("rerank.engine.queue.delay", this, m -> stats(name).rows(), m -> stats(name).queueDelayNanosTotal(),
                TimeUnit.NANOSECONDS).description("Time rows waited for their batch").tags(tags).register(registry);
        for (ModelHealth.State state : ModelHealth.State.values()) {
            // One series per state, 1 for the current one: "breaker open" is state="unavailable" == 1, which an
            // alert can hold for a while, and a panel can stack without knowing the states.
            Gauge.builder("rerank.model.state", this, m -> models.slot(name).health().state() == state ? 1 : 0)
                    .description("1 for the model's current state: healthy, unavailable (circuit breaker open) or dead")
                    .tags(tags.and("state", state.name().toLowerCase(Locale.ROOT))).register(registry);
        }
        FunctionTimer.builder("rerank.engine.model.time", this, m -> stats(name).batches(), m -> stats(name).modelNanos(),
                TimeUnit.NANOSECONDS).description("Time inside ONNX Runtime, per batch").tags(tags).register(registry);
    }

    private void counter(String meter, String description, Tags tags, String name, ToDoubleFunction<EngineStats.Snapshot> value) {
        FunctionCounter.builder(meter, this, m -> value.applyAsDouble(stats(name))).description(description).tags(tags).register(registry);
    }

    private EngineStats.Snapshot stats(String name) {
        Scorer scorer = models.slot(name).currentScorer();
        return scorer instanceof InferenceEngine engine ? engine.stats() : new EngineStats().snapshot();
    }

    /** Model versions change on a hot swap: the info gauge is rebuilt before each scrape. */
    void refreshModelInfo() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (String name : models.names()) {
            Scorer scorer = models.slot(name).currentScorer();
            String provider = scorer instanceof InferenceEngine engine ? engine.executionProvider() : "unknown";
            rows.add(MultiGauge.Row.of(Tags.of("model", name, "version", scorer.modelVersion(), "execution_provider", provider,
                    "default", Boolean.toString(name.equals(models.defaultName()))), 1));
        }
        modelInfo.register(rows, true);
    }

    void bind(KafkaStreams streams) {
        streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
    }

    String scrape() {
        refreshModelInfo();
        return registry.scrape();
    }

    @Override
    public void queryEmitted(String model, int pairs, long scoringMs, long gatherToEmitMs, boolean complete) {
        pairsScored(model).increment(pairs);
        queries(model, complete).increment();
        Timer.builder("rerank.scoring.latency").description("Time to score one query (tokenizing, queueing, model)").tag("model", model)
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry).record(scoringMs, TimeUnit.MILLISECONDS);
        Timer.builder("rerank.end.to.end.latency").description("From a query's first candidate to its result").tag("model", model)
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry).record(gatherToEmitMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void deadLettered(String reason, int candidates) {
        deadLetters(reason).increment(candidates);
    }

    @Override
    public void pendingChanged(int delta) {
        pending.addAndGet(delta);
    }

    @Override
    public void inFlightChanged(int delta) {
        inFlight.addAndGet(delta);
    }

    @Override
    public void close() {
        if (streamsMetrics != null) {
            streamsMetrics.close();
        }
        registry.close();
    }
}
