package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.StoredCandidate;
import dev.kafkareranker.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gathering step as a Kafka Streams processor: adapts records, stores, punctuations and forwards to
 * {@link QueryGatherer}, which holds the logic. What the gatherer returns is forwarded at once, in the
 * transaction of the store changes that went with it, and a commit is asked for (CommitPacer) so that a
 * result is readable soon after its scores are in.
 *
 * <p>The stream thread never waits for the model: a ready query is handed over and the thread goes on;
 * results are forwarded when their scores are in, at the next record or at a 1 ms wall-clock punctuation
 * (which runs whenever the thread loops: at least every poll.ms while idle).
 */
final class GatherProcessor implements Processor<String, GatherProcessor.Arrival, String, Outcome> {

    /** A candidate for this task: read by its own intake ({@code decoded}), or from the repartition topic ({@code raw}: a candidate or a watermark). */
    record Arrival(StoredCandidate decoded, byte[] raw) {}

    /** The serializers of the topic edges: results, and dead letters of candidates stored without their bytes. */
    record Codecs(Serializer<RetrievalCandidate> deadLetters, Serializer<RankedResults> results) {}

    /** A step of the gatherer, run on the stream thread. */
    @FunctionalInterface
    private interface Step {
        List<Outcome> run();
    }

    private static final Logger LOG = LoggerFactory.getLogger(GatherProcessor.class);
    /** How often the stream thread looks for scored queries: each look is a check of a few volatile flags. */
    private static final Duration FORWARD_INTERVAL = Duration.ofMillis(1);

    private final GatherSettings settings;
    private final ScorerRouter scorers;
    private final RerankTopology.StoreNames stores;
    private final GatherListener listener;
    private final CandidateReader reader;
    private final Codecs codecs;
    private final Topics topics;
    private final Map<String, Integer> inputPartitions;
    private final ScoringBacklog backlog;
    private final Tracing tracing;
    private ProcessorContext<String, Outcome> context;
    private QueryGatherer gatherer;
    private ScoringBacklog.Task counts;
    private CommitPacer commits;
    private int deadLetterMaxBytes = CountingExceptionHandlers.DEFAULT_MAX_BYTES;

    GatherProcessor(GatherSettings settings, ScorerRouter scorers, RerankTopology.StoreNames stores, GatherListener listener,
                    CandidateReader reader, Codecs codecs, Topics topics, Map<String, Integer> inputPartitions, ScoringBacklog backlog) {
        this(settings, scorers, stores, listener, reader, codecs, topics, inputPartitions, backlog, Tracing.off());
    }

    /** @param tracing where query spans go ({@link Tracing#off()}: nowhere, at no cost) */
    GatherProcessor(GatherSettings settings, ScorerRouter scorers, RerankTopology.StoreNames stores, GatherListener listener,
                    CandidateReader reader, Codecs codecs, Topics topics, Map<String, Integer> inputPartitions, ScoringBacklog backlog,
                    Tracing tracing) {
        this.tracing = tracing;
        this.settings = settings;
        this.scorers = scorers;
        this.stores = stores;
        this.listener = listener;
        this.reader = reader;
        this.codecs = codecs;
        this.topics = topics;
        this.inputPartitions = Map.copyOf(inputPartitions);
        this.backlog = backlog;
    }

    @Override
    public void init(ProcessorContext<String, Outcome> context) {
        this.context = context;
        // Kafka Streams may init the same instance again (suspend and resume, a revived task): what was
        // derived from the stores before is dropped and derived again, never carried across.
        if (gatherer != null) {
            close();
        }
        deadLetterMaxBytes = CountingExceptionHandlers.maxBytes(context.appConfigs());
        KeyValueStore<String, dev.kafkareranker.avro.internal.QueryState> queries = context.getStateStore(stores.queries());
        KeyValueStore<String, StoredCandidate> candidates = context.getStateStore(stores.candidates());
        KeyValueStore<String, String> deadlines = context.getStateStore(stores.deadlines());
        GatherStore store = new GatherStore(StoreTable.of(queries), StoreTable.of(candidates), StoreTable.of(deadlines));
        Outcomes outcomes = new Outcomes(settings, store, new Outcomes.Writers(r -> codecs.results().serialize(topics.results(), r),
                c -> codecs.deadLetters().serialize(topics.deadLetters(), c)), topics.deadLetters(), deadLetterMaxBytes);
        counts = backlog.open(context.taskId().toString());
        QueryTraces traces = tracing.enabled() ? new QueryTraces(tracing, String.valueOf(context.applicationId()),
                RerankTopology.inputTopics(topics).get(0), topics.results()) : QueryTraces.OFF;
        gatherer = new QueryGatherer(settings, store, scorers, context::currentSystemTimeMs, listener, outcomes, counts,
                upstream(inputPartitions), traces);
        commits = CommitPacer.schedule(context);
        forward(() -> gatherer.start());
        context.schedule(settings.punctuateInterval(), PunctuationType.WALL_CLOCK_TIME, now -> forward(() -> gatherer.expire()));
        context.schedule(FORWARD_INTERVAL, PunctuationType.WALL_CLOCK_TIME, now -> forward(() -> gatherer.poll()));
    }

    /** Every input partition: any of them can feed any gathering task through the repartition topic. */
    static java.util.Set<String> upstream(Map<String, Integer> inputPartitions) {
        java.util.Set<String> all = new java.util.HashSet<>();
        inputPartitions.forEach((topic, count) -> {
            for (int p = 0; p < count; p++) {
                all.add(Watermark.source(topic, p));
            }
        });
        return all;
    }

    @Override
    public void process(Record<String, Arrival> record) {
        forward(() -> {
            try {
                return admit(record);
            } catch (BadRecordException e) {
                // The processing handler writes a bad record's dead letter from the record's headers (its context's, the
                // same object): with tracing they carry the context of the dead letter's span, which links to the
                // candidate's own context and to its query's span. Without tracing the span is NONE and writes nothing.
                e.trace().injectInto(record.headers());
                throw e;
            }
        });
    }

    /** One record: a candidate, decoded at intake or read from the repartition topic, or an upstream watermark. */
    private List<Outcome> admit(Record<String, Arrival> record) {
        Arrival arrival = record.value();
        if (arrival.decoded() != null) {
            return gatherer.admit(arrival.decoded(), record.timestamp());
        }
        if (Watermark.KEY.equals(record.key()) && record.headers().lastHeader(Watermark.HEADER) != null) {
            Watermark watermark = Watermark.decode(arrival.raw());
            if (watermark == null) {
                LOG.warn("A watermark record of a later version was skipped: {}", new String(arrival.raw(), StandardCharsets.UTF_8));
                return List.of();
            }
            return gatherer.watermark(watermark);
        }
        return gatherer.admit(fromRepartitionTopic(record), record.timestamp());
    }

    /** The candidate as the intake read it, and its record as produced, from the repartition topic's record and headers (Origin). */
    private StoredCandidate fromRepartitionTopic(Record<String, Arrival> record) {
        RecordMetadata position = context.recordMetadata().orElseThrow();
        String sourceTopic = Origin.topic(record.headers(), topics.candidates());
        Header decoded = record.headers().lastHeader(CandidateReader.HEADER_DECODED);
        RetrievalCandidate candidate = reader.readRepartitioned(sourceTopic, record.headers(), decoded == null ? null : decoded.value(),
                record.value().raw());
        return new StoredCandidate(candidate, Origin.source(record.headers(), position.topic(), position.partition(), position.offset(),
                record.timestamp(), record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8), record.value().raw(),
                deadLetterMaxBytes));
    }

    /** Runs a step of the gatherer and forwards what it returns; a failure that is not a record's own fails the task (Failures). */
    private void forward(Step step) {
        List<Outcome> out;
        try {
            out = step.run();
        } catch (RuntimeException e) {
            throw Failures.failTask(context.taskId(), e, listener);
        }
        for (Outcome o : out) {
            context.forward(new Record<>(null, o, o.timestamp(), o.headers()));
        }
        if (!out.isEmpty()) {
            commits.forwarded();
            gatherer.forwarded();
        }
    }

    /** A closed (revoked) task's scoring is dropped and its gauges cleared: whoever runs it next derives them from the stores. */
    @Override
    public void close() {
        if (gatherer != null) {
            gatherer.close();
            backlog.close(context.taskId().toString(), counts);
            gatherer = null;
        }
    }
}
