package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
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
 * candidates ─► decode, validate ─► re-key by query_id ─► repartition ─► gather-score-rank ─┬─► results
 *                  └─► (bad record: dead letter)                                            └─► dead letters
 * </pre>
 * Every candidate goes through the repartition topic, partitioned by its query_id with Kafka's default
 * partitioner, so a query's candidates meet in one task however the producer keyed and partitioned them
 * (librdkafka's default partitioner is CRC32, not Java's murmur2). With gather.input.copartitioned=true a
 * user declares the input keyed by query_id and murmur2-partitioned: records keyed by their query_id
 * then skip the repartition topic. The repartition topic carries the producer's bytes unchanged.
 *
 * <p>The stores, their changelogs and the repartition topic need no Schema Registry ({@link StoreSerde});
 * only the candidates, results and dead-letter topics use the configured serde.
 */
public final class RerankTopology {

    public static final StoreNames STORES = new StoreNames("rerank-queries", "rerank-candidates", "rerank-deadlines");
    public static final String REPARTITION_NAME = "by-query-id";

    private RerankTopology() {
    }

    /**
     * The serdes of the three record types, configured by the caller for its registry. The candidates and
     * results serdes are the topics'; the stores use {@link StoreSerde}, and read records in the registry's
     * wire format (changelogs written by earlier versions) through {@code candidates} and {@code queries}.
     */
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
        StoreSerde<QueryState> queryStore = new StoreSerde<>(QueryState.class, serdes.queries().deserializer());
        // Each entry holds the candidate twice, decoded (what scoring reads) and as produced (what its dead
        // letter carries should its query's scoring fail): about 2x the bytes of a bare candidate in RocksDB,
        // the cache and the changelog (2.0-2.1x measured for 200-4,000-character passages). Bounded: the produced
        // copy is cut to dead.letters.max.bytes (the decoded one's texts to gather.max.passage.chars), and
        // entries are deleted when their query is emitted.
        CandidateStoreSerde candidateStore = new CandidateStoreSerde(serdes.candidates().deserializer());
        // Cached: a query's state is rewritten with every candidate and its entries deleted when it is
        // emitted, often within one commit interval; the cache turns those into one write or none,
        // in RocksDB and in the changelog.
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORES.queries()), Serdes.String(), queryStore).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORES.candidates()), Serdes.String(), candidateStore).withCachingEnabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORES.deadlines()), Serdes.String(), Serdes.String()).withCachingEnabled());

        List<String> inputTopics = java.util.Arrays.stream(topics.candidates().split(",")).map(String::trim).toList();
        // Bytes, decoded by the intake step: a record whose bytes fail is dead-lettered with its reason there,
        // and a record of another Avro type (RankedResults, QueryState) is refused without a cast that would
        // stop the stream thread.
        KStream<String, CandidateIntake.Intake> intake = builder.stream(inputTopics,
                        Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("candidates-source"))
                .process(() -> new CandidateIntake(serdes.candidates().deserializer(), serdes.candidates().serializer(), settings), Named.as("decode-validate"));

        KStream<String, byte[]> keyed;
        if (settings.limits().copartitioned()) {
            Map<String, KStream<String, CandidateIntake.Intake>> byKey = intake.split(Named.as("key-"))
                    .branch((key, value) -> value.keyedByQueryId(), Branched.as("by-query-id"))
                    .defaultBranch(Branched.as("other"));
            KStream<String, byte[]> rekeyed = byKey.get("key-other")
                    .mapValues(CandidateIntake.Intake::raw, Named.as("raw-other"))
                    .repartition(Repartitioned.with(Serdes.String(), Serdes.ByteArray()).withName(REPARTITION_NAME));
            keyed = byKey.get("key-by-query-id").mapValues(CandidateIntake.Intake::raw, Named.as("raw-by-query-id"))
                    .merge(rekeyed, Named.as("keyed-candidates"));
        } else {
            keyed = intake.mapValues(CandidateIntake.Intake::raw, Named.as("raw"))
                    .repartition(Repartitioned.with(Serdes.String(), Serdes.ByteArray()).withName(REPARTITION_NAME));
        }

        GatherProcessor.Codecs codecs = new GatherProcessor.Codecs(serdes.candidates().deserializer(), serdes.candidates().serializer(),
                serdes.results().serializer());
        KStream<String, GatherProcessor.Outcome> outcomes = keyed
                .process(() -> new GatherProcessor(settings, scorers, STORES, listener, codecs, topics, modelByTopic),
                        Named.as("gather-score-rank"), STORES.queries(), STORES.candidates(), STORES.deadlines());

        // Serialized by the gatherer, which checks a result's size and serializer before its store changes.
        outcomes.split(Named.as("outcome-"))
                .branch((key, value) -> value.result(), Branched.withConsumer(results -> results
                        .map((key, value) -> KeyValue.pair(value.key(), value.value()), Named.as("as-results"))
                        .to(topics.results(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("results-sink")), "results"))
                .defaultBranch(Branched.withConsumer(dead -> dead
                        .map((key, value) -> KeyValue.pair(value.key(), value.value()), Named.as("as-dead-letters"))
                        .to(topics.deadLetters(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dead-letters-sink")), "dead-letters"));
        return builder.build();
    }
}
