package dev.kafkareranker.eval;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.DeadLetters;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.serde.AvroDeserializer;
import dev.kafkareranker.serde.AvroSerializer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * One evaluation: reads the collection, retrieves each query's top k with BM25, sends them through the
 * reranking pipeline on a real broker in this JVM (as {@code demo} does), reads the results back with a
 * read_committed consumer, and scores both rankings against the judgements.
 *
 * <p>The pipeline is the production one, {@link RerankerApp} with its config; only the settings below
 * differ, each for a reason given where it is set. {@code RERANKER_*} environment variables apply as
 * for {@code run} (RERANKER_INFERENCE_DEVICE=cpu, RERANKER_INFERENCE_BATCH_MAX_ROWS=16, ...).
 */
public final class EvalRun {

    private static final String REGISTRY = "mock://reranker-eval";
    /** Two tasks, as in the demo: candidates really are spread over partitions and gathered per query. */
    private static final int PARTITIONS = 2;
    /**
     * Give up when no result arrived for this long. Not a total limit: a big model on a CPU may take
     * minutes for all queries, but never this long for one query of a few hundred passages.
     */
    private static final Duration STALL_TIMEOUT = Duration.ofMinutes(5);

    private final EvalOptions options;
    private final Map<String, String> env;
    private final PrintStream progress;

    /**
     * @param env      the environment, for RERANKER_* overrides (tests pass their own)
     * @param progress where the progress bar goes (stderr, so stdout holds only the report)
     */
    public EvalRun(EvalOptions options, Map<String, String> env, PrintStream progress) {
        this.options = options;
        this.env = Map.copyOf(env);
        this.progress = progress;
    }

    public EvalReport run() throws IOException, InterruptedException {
        long start = System.nanoTime();
        CollectionFormat format = options.format().isPresent() ? options.format().get() : CollectionFormat.detect(options.collection());
        TestCollection collection = format.read(options.collection());
        if (options.queryLimit() > 0) {
            collection = collection.firstQueries(options.queryLimit());
        }
        if (collection.queries().isEmpty()) {
            throw new IllegalArgumentException(options.collection() + " holds no queries");
        }
        checkJudgementsMatch(collection, options.collection(), progress);
        Map<String, List<Bm25Retriever.Hit>> bm25 = new LinkedHashMap<>();
        try (Bm25Retriever retriever = Bm25Retriever.index(collection.documents())) {
            for (EvalQuery query : collection.queries()) {
                bm25.put(query.id(), retriever.search(query.text(), options.k()));
            }
        }
        long retrieved = System.nanoTime();

        Map<String, RankedResults> results = rerank(collection, bm25);
        long reranked = System.nanoTime();
        return report(collection, format, bm25, results, start, retrieved, reranked);
    }

    /**
     * Before anything starts (index, broker, model): the judgements must name these queries and these
     * documents, or every figure would be 0 after minutes of work. Some queries without judgements is a
     * warning: they are left out of the averages, as queries without a relevant document are.
     */
    static void checkJudgementsMatch(TestCollection collection, Path dir, PrintStream warnings) {
        List<String> ids = collection.queries().stream().map(EvalQuery::id).toList();
        List<String> unjudged = ids.stream().filter(id -> collection.qrels().judgements(id).isEmpty()).toList();
        if (unjudged.size() == ids.size()) {
            throw new IllegalArgumentException("eval: none of the " + ids.size() + " queries of " + dir
                    + " has a judgement: query ids are " + sample(ids) + ", the judgements name queries "
                    + sample(List.copyOf(collection.qrels().queryIds())) + " (wrong files, or another --format?)");
        }
        List<String> judgedDocs = ids.stream().flatMap(id -> collection.qrels().judgements(id).keySet().stream()).distinct().toList();
        if (judgedDocs.stream().noneMatch(collection.documents()::containsKey)) {
            throw new IllegalArgumentException("eval: none of the " + judgedDocs.size() + " documents judged for these queries is in "
                    + dir + ": judged ids are " + sample(judgedDocs) + ", document ids are "
                    + sample(List.copyOf(collection.documents().keySet())));
        }
        if (!unjudged.isEmpty()) {
            warnings.println("eval: warning: " + unjudged.size() + " of " + ids.size() + " queries have no judgements and are"
                    + " left out of the averages: " + sample(unjudged));
        }
    }

    private static String sample(List<String> ids) {
        int shown = Math.min(5, ids.size());
        return ids.subList(0, shown) + (ids.size() > shown ? " and " + (ids.size() - shown) + " more" : "");
    }

    private Map<String, RankedResults> rerank(TestCollection collection, Map<String, List<Bm25Retriever.Hit>> bm25)
            throws IOException, InterruptedException {
        // Under the user's cache, not the OS temp directory Kafka Streams warns about; removed at the end.
        Path stateDir = dev.kafkareranker.app.UserCache.scratch("eval-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            RerankerConfig config = config(kafka.bootstrapServers(), stateDir);
            Topics topics = config.topics();
            kafka.createTopics(PARTITIONS, topics.candidates(), topics.results(), topics.deadLetters());
            try (RerankerApp app = RerankerApp.create(config)) {
                app.start();
                int sent = produce(kafka.bootstrapServers(), topics, collection, bm25);
                return collect(kafka, topics, app, sent);
            }
        } finally {
            dev.kafkareranker.app.UserCache.deleteTree(stateDir);
        }
    }

    RerankerConfig config(String bootstrapServers, Path stateDir) {
        Map<String, Object> props = new HashMap<>();
        // Every query names its candidate_count, so each is emitted complete when its last candidate
        // arrives; the max wait is only a backstop. It must be long: the one stream thread scores one
        // query while another's candidates wait, and a query flushed half-gathered would be scored on
        // part of its candidates and then again on the rest.
        props.put(RerankerConfig.GATHER_MAX_WAIT_MS, String.valueOf(Duration.ofMinutes(10).toMillis()));
        // No query has more than k candidates; the cap must not cut one short when k is above the default 1000.
        props.put(RerankerConfig.GATHER_MAX_CANDIDATES_PER_QUERY, String.valueOf(options.k()));
        // Candidates carry top_k = k; 0 here keeps all should one lack it: Recall@k needs all k back.
        props.put(RerankerConfig.RANK_TOP_K, "0");
        // Exactly-once commits a transaction around each batch of processing, and scoring is in it.
        // Kafka Streams' 10 s transaction timeout is too short for a large model on a CPU scoring several
        // queries of 100 passages in one batch; the broker's ceiling (transaction.max.timeout.ms) is 15 min.
        props.put("producer.transaction.timeout.ms", String.valueOf(Duration.ofMinutes(5).toMillis()));
        props.putAll(RerankerConfig.fromEnvironment(env));
        options.modelDir().ifPresent(dir -> props.put(RerankerConfig.MODEL_DIR, dir.toString()));
        // This run's own broker, registry and state: not overridable, or the run would not be self-contained.
        props.put("bootstrap.servers", bootstrapServers);
        props.put("schema.registry.url", REGISTRY);
        props.put("application.id", "reranker-eval");
        props.putIfAbsent(RerankerConfig.ADMIN_PORT, "0");
        props.put("state.dir", stateDir.toString());
        return new RerankerConfig(props);
    }

    /** Publishes every query's BM25 candidates, keyed by query id; returns how many queries were sent. */
    private static int produce(String bootstrap, Topics topics, TestCollection collection, Map<String, List<Bm25Retriever.Hit>> bm25) {
        Map<String, Object> props = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", REGISTRY), false);
        int sent = 0;
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(props, new StringSerializer(), serializer)) {
            Instant now = Instant.now();
            for (EvalQuery query : collection.queries()) {
                List<Bm25Retriever.Hit> hits = bm25.get(query.id());
                if (hits.isEmpty()) {
                    continue;
                }
                for (Bm25Retriever.Hit hit : hits) {
                    RetrievalCandidate candidate = RetrievalCandidate.newBuilder()
                            .setQueryId(query.id())
                            .setQuery(query.text())
                            .setDocId(hit.docId())
                            .setText(collection.documents().get(hit.docId()))
                            .setRetrievalScore((double) hit.score())
                            .setRetrievalRank(hit.rank())
                            // The number BM25 actually returned (fewer than k when few documents match),
                            // so that the query completes on its last candidate.
                            .setCandidateCount(hits.size())
                            .setTopK(hits.size())
                            .setMetadata(new HashMap<>())
                            .setEventTime(now)
                            .build();
                    producer.send(new ProducerRecord<>(topics.candidates(), query.id(), candidate));
                }
                sent++;
            }
            producer.flush();
        }
        return sent;
    }

    /**
     * Reads results until every sent query has one. Reads the dead-letter topic too: a query whose
     * candidates went there (a model that fails, a candidate the pipeline rejects) will never have a
     * result, and waiting for it would only end at the stall timeout.
     */
    private Map<String, RankedResults> collect(EmbeddedKafka kafka, Topics topics, RerankerApp app, int expected) {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", REGISTRY, "specific.avro.reader", true), false);
        Map<String, RankedResults> results = new LinkedHashMap<>();
        ProgressBar bar = new ProgressBar(progress, "eval: reranking queries", expected);
        bar.update(0);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(kafka.readCommittedConsumerProps("reranker-eval-results"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topics.results(), topics.deadLetters()));
            long lastProgress = System.nanoTime();
            while (results.size() < expected) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.topic().equals(topics.deadLetters())) {
                        bar.finish();
                        throw new IllegalStateException("a candidate of query " + record.key() + " went to the dead-letter topic: "
                                + header(record, DeadLetters.HEADER_REASON) + " " + header(record, DeadLetters.HEADER_MESSAGE));
                    }
                    results.put(record.key(), deserializer.deserialize(record.topic(), record.headers(), record.value()));
                    lastProgress = System.nanoTime();
                }
                bar.update(results.size());
                KafkaStreams.State state = app.state();
                if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.NOT_RUNNING) {
                    bar.finish();
                    throw new IllegalStateException("the pipeline stopped (" + state + ") after " + results.size() + " of "
                            + expected + " queries; its log above says why");
                }
                if (System.nanoTime() - lastProgress > STALL_TIMEOUT.toNanos()) {
                    bar.finish();
                    throw new IllegalStateException("no result for " + STALL_TIMEOUT.toMinutes() + " minutes; " + results.size()
                            + " of " + expected + " queries reranked");
                }
            }
        }
        bar.finish();
        return results;
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    private EvalReport report(TestCollection collection, CollectionFormat format, Map<String, List<Bm25Retriever.Hit>> bm25,
                              Map<String, RankedResults> results, long start, long retrieved, long reranked) {
        List<EvalReport.QueryReport> perQuery = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<String> withoutCandidates = new ArrayList<>();
        for (EvalQuery query : collection.queries()) {
            List<Bm25Retriever.Hit> hits = bm25.get(query.id());
            if (hits.isEmpty()) {
                withoutCandidates.add(query.id());
            }
            Map<String, Integer> judgements = collection.qrels().judgements(query.id());
            List<String> firstStage = hits.stream().map(Bm25Retriever.Hit::docId).toList();
            List<String> second = hits.isEmpty() ? List.of() : ranking(results.get(query.id()));
            Metrics.Scores before = Metrics.of(firstStage, judgements, options.k());
            Metrics.Scores after = Metrics.of(second, judgements, options.k());
            if (before == null) {
                skipped.add(query.id());
            } else {
                perQuery.add(new EvalReport.QueryReport(query.id(), collection.qrels().relevantCount(query.id()), hits.size(), before, after));
            }
        }
        if (perQuery.isEmpty()) {
            throw new IllegalArgumentException("none of the " + collection.queries().size() + " queries has a document judged relevant in "
                    + options.collection() + ": nothing to measure (do the query ids of the judgements match the queries'?)");
        }
        String model = results.values().stream().findFirst()
                .map(r -> r.getModel().getName() + " " + r.getModel().getVersion()).orElse("(no query reranked)");
        return new EvalReport(collection.name(), options.collection(), format, collection.documents().size(),
                collection.queries().size(), options.k(), model, perQuery, skipped, withoutCandidates,
                Metrics.mean(perQuery.stream().map(EvalReport.QueryReport::bm25).toList()),
                Metrics.mean(perQuery.stream().map(EvalReport.QueryReport::reranked).toList()),
                (int) results.values().stream().filter(r -> !r.getComplete()).count(),
                results.values().stream().mapToLong(RankedResults::getCandidatesReceived).sum(),
                results.values().stream().mapToLong(RankedResults::getScoringMs).sum(),
                (retrieved - start) / 1e9, (reranked - retrieved) / 1e9, (System.nanoTime() - start) / 1e9);
    }

    /** The reranked document ids, best first (the results come ranked; sorted again so nothing rests on that). */
    private static List<String> ranking(RankedResults result) {
        return result.getResults().stream()
                .sorted(Comparator.comparingInt(RankedDocument::getRank))
                .map(RankedDocument::getDocId)
                .toList();
    }

}
