package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.GatherSettings;
import dev.kafkareranker.gather.RerankTopology;
import dev.kafkareranker.gather.ScorerRouter;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.Device;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serde.AvroSerializer;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A query handed to the model when its task stops is not lost: the "being scored" mark and its candidates
 * are in the changelog, so the next instance, restoring into an empty state directory, scores it and
 * writes its result exactly once.
 */
class InterruptedScoringTest {

    private static final Path BERT = Path.of("..", "tools", "fixtures", "bert-cross-encoder");

    private static TestCluster kafka;

    @BeforeAll
    static void startBroker() {
        kafka = TestCluster.start("it-interrupted");
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    /** A model that takes the query and never answers: the instance stops while it is being scored. */
    private static final class NeverAnswers implements Scorer {
        final CountDownLatch handedOver = new CountDownLatch(1);

        @Override
        public CompletableFuture<Scoring> scoreQueryAsync(String query, List<String> passages) {
            handedOver.countDown();
            return new CompletableFuture<>();
        }

        @Override
        public List<Score> score(String query, List<String> passages) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String modelName() {
            return "bert-cross-encoder";
        }

        @Override
        public String modelVersion() {
            return "never";
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aQueryBeingScoredWhenItsInstanceStopsIsScoredByTheNextOneExactlyOnce() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Topics topics = new Topics("candidates-" + run, "results-" + run, "dlq-" + run);
        kafka.createTopics(1, topics.candidates(), topics.results(), topics.deadLetters());
        String applicationId = "it-interrupted-" + run;

        Pipeline pipeline = new Pipeline(kafka.bootstrapServers(), kafka.registryUrl(), applicationId, topics);

        NeverAnswers stuck = new NeverAnswers();
        try (KafkaStreams first = streams(topics, applicationId, ScorerRouter.single(stuck))) {
            first.start();
            Running.await(first);
            produce(topics);
            assertTrue(stuck.handedOver.await(60, TimeUnit.SECONDS), "the query reached the model");
        }
        // The first instance is closed: what it committed is all it will, and a reader of the whole topic sees it.
        try (ResultWatcher watcher = new ResultWatcher(pipeline)) {
            watcher.readToEnd(Duration.ofMinutes(1));
            assertEquals(0, watcher.count(), "nothing was scored before the stop");
        }

        try (Scorer bert = Scorers.open(ModelDirectory.load(BERT), InferenceOptions.defaults().withDevice(Device.parse("cpu")));
             KafkaStreams second = streams(topics, applicationId, ScorerRouter.single(bert));
             ResultWatcher watcher = new ResultWatcher(pipeline)) {
            second.start();
            Running.await(second);
            watcher.awaitQueries(1, Duration.ofSeconds(60));
            Ledger.toTheEnd(watcher, pipeline, Duration.ofSeconds(60));
            assertEquals(1, watcher.count(), "exactly one result");
            RankedResults r = watcher.results.get("q1");
            assertEquals("q1", r.getQueryId());
            assertTrue(r.getComplete());
            assertEquals(List.of("a", "b", "c"), r.getResults().stream().map(RankedDocument::getDocId).sorted().toList());
            assertEquals("1", r.getModel().getVersion(), "scored by the model of the second instance");
        }
    }

    private static KafkaStreams streams(Topics topics, String applicationId, ScorerRouter scorers) throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", kafka.bootstrapServers());
        props.put("schema.registry.url", kafka.registryUrl());
        props.put("application.id", applicationId);
        // A new state directory each time: the second instance has only the changelog to go by.
        props.put("state.dir", Files.createTempDirectory("it-interrupted").toString());
        // The first instance's tasks go to the second once the broker drops it: the minimum keeps that quick.
        props.put("session.timeout.ms", "6000");
        props.put("heartbeat.interval.ms", "1000");
        props.put(RerankerConfig.TOPIC_CANDIDATES, topics.candidates());
        props.put(RerankerConfig.TOPIC_RESULTS, topics.results());
        props.put(RerankerConfig.TOPIC_DEAD_LETTERS, topics.deadLetters());
        Map<String, Object> serdeConfig = Map.of("schema.registry.url", kafka.registryUrl());
        RerankTopology.Serdes3 serdes = new RerankTopology.Serdes3(serde(serdeConfig), serde(serdeConfig), serde(serdeConfig));
        return new KafkaStreams(RerankTopology.build(topics, serdes, scorers, GatherSettings.defaults()),
                new RerankerConfig(props).streamsProperties());
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde(Map<String, Object> config) {
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(config, false);
        return serde;
    }

    private static void produce(Topics topics) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", kafka.registryUrl()), false);
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), serializer)) {
            for (String doc : List.of("a", "b", "c")) {
                producer.send(new ProducerRecord<>(topics.candidates(), "q1", RetrievalCandidate.newBuilder()
                        .setQueryId("q1").setQuery("what causes anemia").setDocId(doc)
                        .setText("passage " + doc + " about iron deficiency").setCandidateCount(3)
                        .setMetadata(Map.of()).build()));
            }
        }
    }
}
