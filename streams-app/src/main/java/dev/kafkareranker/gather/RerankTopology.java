package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The reranking topology:
 * <pre>
 * candidates ─┬─ keyed by query_id ──────────────────────────┬─ gather-score-rank ─┬─► results
 *             └─ keyed otherwise ─► re-key ─► repartition ───┘                     └─► dead letters
 * </pre>
 * Records already keyed by their query_id skip the repartition topic; both paths are partitioned by
 * the same key bytes with the default partitioner, so a query's candidates meet in one task.
 */
public final class RerankTopology {

    public static final StoreNames STORES = new StoreNames("rerank-queries", "rerank-candidates", "rerank-deadlines");
    public static final String REPARTITION_NAME = "by-query-id";

    private RerankTopology() {
    }

    /** The serdes of the three record types, all configured by the caller for its registry. */
    public record Serdes3(Serde<RetrievalCandidate> candidates, Serde<RankedResults> results, Serde<QueryState> queries) {}

    /** The gathering stores: per-query state, one entry per candidate, and time-ordered deadlines. */
    public record StoreNames(String queries, String candidates, String deadlines) {}

    public static Topology build(Topics topics, Serdes3 serdes, ScorerRouter scorers, GatherSettings settings) {
        return build(topics, serdes, scorers, settings, Map.of());
    }

    /**
     * @param modelByTopic the model for candidates of a topic that name none (topics.candidates may
     *                     be a comma-separated list of topics)
     */
    public static Topology build(Topics topics, Serdes3 serdes, ScorerRouter scorers, GatherSettings settings,
                                 Map<String, String> modelByTopic) {
        return build(topics, serdes, scorers, settings, modelByTopic, GatherListener.NONE);
    }

    /** @param listener told of emitted queries, dead letters and pending counts (metrics) */
    public static Topology build(Topics topics, Serdes3 serdes, ScorerRouter scorers, GatherSettings settings,
                                 Map<String, String> modelByTopic, GatherListener listener) {
        StreamsBuilder builder = new StreamsBuilder();
        // Cached: a query's state is rewritten with every candidate and its entries deleted when it is
        // emitted, often within one commit interval; the cache turns those into one write or none,
        // in RocksDB and in the changelog.
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORES.queries()), Serdes.String(), serdes.queries()).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORES.candidates()), Serdes.String(), serdes.candidates()).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORES.deadlines()), Serdes.String(), Serdes.String()).withCachingEnabled());

        List<String> inputTopics = java.util.Arrays.stream(topics.candidates().split(",")).map(String::trim).toList();
        KStream<String, RetrievalCandidate> input = builder.stream(inputTopics,
                Consumed.with(Serdes.String(), serdes.candidates()).withName("candidates-source"));
        if (!modelByTopic.isEmpty()) {
            // Before any repartition: afterwards the source topic is no longer known.
            input = input.processValues(() -> new TopicDefaultModel(Map.copyOf(modelByTopic)), Named.as("default-model-by-topic"));
        }

        Map<String, KStream<String, RetrievalCandidate>> byKey = input.split(Named.as("key-"))
                // A null value stays on the direct path so that the processor dead-letters it with a reason.
                .branch((key, value) -> value == null || value.getQueryId().equals(key), Branched.as("by-query-id"))
                .defaultBranch(Branched.as("other"));
        KStream<String, RetrievalCandidate> rekeyed = byKey.get("key-other")
                .selectKey((key, value) -> value.getQueryId(), Named.as("rekey-by-query-id"))
                .repartition(Repartitioned.with(Serdes.String(), serdes.candidates()).withName(REPARTITION_NAME));

        KStream<String, SpecificRecord> outcomes = byKey.get("key-by-query-id")
                .merge(rekeyed, Named.as("keyed-candidates"))
                .process(() -> new GatherProcessor(settings, scorers, STORES, listener),
                        Named.as("gather-score-rank"), STORES.queries(), STORES.candidates(), STORES.deadlines());

        outcomes.split(Named.as("outcome-"))
                .branch((key, value) -> value instanceof RankedResults, Branched.withConsumer(results -> results
                        .mapValues(value -> (RankedResults) value, Named.as("as-results"))
                        .to(topics.results(), Produced.with(Serdes.String(), serdes.results()).withName("results-sink")), "results"))
                .defaultBranch(Branched.withConsumer(dead -> dead
                        .mapValues(value -> (RetrievalCandidate) value, Named.as("as-dead-letters"))
                        .to(topics.deadLetters(), Produced.with(Serdes.String(), serdes.candidates()).withName("dead-letters-sink")), "dead-letters"));
        return builder.build();
    }
}
