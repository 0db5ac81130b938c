package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.tracing.Tracing;
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
 * candidates ─► read, validate ─┬─ keyed by query_id, on its query's partition ───────────────┬─► gather-score-rank ─┬─► results
 *                  │            └─ others: re-key by query_id ─► repartition ─────────────────┘                      └─► dead letters
 *                  └─► (bad record: dead letter)          (and each input partition's watermark, to every partition)
 * </pre>
 * A query's candidates meet in one task, partitioned by murmur2 of its query_id ({@link QueryPartitioner})
 * however the producer keyed and partitioned them (librdkafka's default partitioner is CRC32, not Java's
 * murmur2); a record already on its query's partition, keyed by its query_id, skips the repartition topic,
 * which the intake checks for each record. The repartition topic carries the producer's bytes unchanged,
 * and has as many partitions as the largest candidates topic, so that both paths agree.
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

    /**
     * What the topology is wired to besides its topics, serdes, models and settings.
     *
     * @param modelByTopic    the model for candidates of a topic that name none (topics.candidates may be a
     *                        comma-separated list of topics)
     * @param listener        told of emitted queries, dead letters, pending counts and transient faults
     * @param inputPartitions the partition count of each candidates topic (the app looks them up at start)
     * @param backlog         each gathering task's queries ahead of the model, for the input gate
     * @param tracing         where query spans go ({@link Tracing#off()} when OpenTelemetry is not configured)
     */
    public record Wiring(Map<String, String> modelByTopic, GatherListener listener, Map<String, Integer> inputPartitions,
                         ScoringBacklog backlog, Tracing tracing) {
        public Wiring {
            modelByTopic = Map.copyOf(modelByTopic);
            inputPartitions = Map.copyOf(inputPartitions);
        }

        /** Without tracing. */
        public Wiring(Map<String, String> modelByTopic, GatherListener listener, Map<String, Integer> inputPartitions,
                      ScoringBacklog backlog) {
            this(modelByTopic, listener, inputPartitions, backlog, Tracing.off());
        }

        /** For a topology on topics of one partition each (TopologyTestDriver's), with nothing listening. */
        public static Wiring onePartitionEach(Topics topics, GatherSettings settings) {
            Map<String, Integer> partitions = new java.util.LinkedHashMap<>();
            inputTopics(topics).forEach(t -> partitions.put(t, 1));
            return new Wiring(Map.of(), GatherListener.NONE, partitions, new ScoringBacklog(settings.maxInFlightQueries()));
        }

        public Wiring withModelByTopic(Map<String, String> models) {
            return new Wiring(models, listener, inputPartitions, backlog, tracing);
        }

        public Wiring withListener(GatherListener newListener) {
            return new Wiring(modelByTopic, newListener, inputPartitions, backlog, tracing);
        }

        public Wiring withTracing(Tracing newTracing) {
            return new Wiring(modelByTopic, listener, inputPartitions, backlog, newTracing);
        }
    }

    /** The candidates topics: topics.candidates is a comma-separated list. */
    public static List<String> inputTopics(Topics topics) {
        return java.util.Arrays.stream(topics.candidates().split(",")).map(String::trim).toList();
    }

    /** On topics of one partition each, as TopologyTestDriver has them. */
    public static Topology build(Topics topics, Serdes3 serdes, ScorerRouter scorers, GatherSettings settings) {
        return build(topics, serdes, scorers, settings, Wiring.onePartitionEach(topics, settings));
    }

    public static Topology build(Topics topics, Serdes3 serdes, ScorerRouter scorers, GatherSettings settings, Wiring wiring) {
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

        List<String> inputTopics = inputTopics(topics);
        Map<String, Integer> read = new java.util.LinkedHashMap<>();
        for (String topic : inputTopics) {
            Integer count = wiring.inputPartitions().get(topic);
            if (count == null) {
                throw new IllegalArgumentException("no partition count for candidates topic " + topic + " in " + wiring.inputPartitions());
            }
            read.put(topic, count);
        }
        int partitions = read.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        CandidateReader reader = new CandidateReader(serdes.candidates().deserializer(), settings, wiring.modelByTopic());
        // Bytes, read by the intake step: a record whose bytes fail is dead-lettered with its reason there,
        // and a record of another Avro type (RankedResults, QueryState) is refused without a cast that would
        // stop the stream thread.
        Map<String, KStream<String, CandidateIntake.Intake>> paths = builder.stream(inputTopics,
                        Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("candidates-source"))
                .process(() -> new CandidateIntake(reader, serdes.candidates().serializer(), settings, read,
                        scorers::inputResumedAtMs, wiring.listener()), Named.as("decode-validate"))
                .split(Named.as("path-"))
                .branch((key, value) -> value.direct(), Branched.as("direct"))
                .defaultBranch(Branched.as("rekeyed"));
        // Its partition count fixed to the largest candidates topic's, which the intake's check assumes (QueryPartitioner).
        KStream<String, GatherProcessor.Arrival> rekeyed = paths.get("path-rekeyed")
                .mapValues(CandidateIntake.Intake::bytes, Named.as("raw"))
                .repartition(Repartitioned.with(Serdes.String(), Serdes.ByteArray()).withName(REPARTITION_NAME)
                        .withNumberOfPartitions(partitions).withStreamPartitioner(new QueryPartitioner(partitions)))
                .mapValues(raw -> new GatherProcessor.Arrival(null, raw), Named.as("from-repartition"));
        KStream<String, GatherProcessor.Arrival> keyed = paths.get("path-direct")
                .mapValues(intake -> new GatherProcessor.Arrival(intake.stored(), null), Named.as("direct"))
                .merge(rekeyed, Named.as("keyed-candidates"));

        GatherProcessor.Codecs codecs = new GatherProcessor.Codecs(serdes.candidates().serializer(), serdes.results().serializer());
        KStream<String, Outcome> outcomes = keyed
                .process(() -> new GatherProcessor(settings, scorers, STORES, wiring.listener(), reader, codecs, topics,
                                wiring.inputPartitions(), wiring.backlog(), wiring.tracing()),
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
