package dev.kafkareranker.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.gather.GatherSettings;
import dev.kafkareranker.gather.RerankTopology;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.gather.UnknownModelException;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

/** Two fixture models in one stream, routed by the candidates' model field, each scored by the right one. */
class ModelRoutingTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde(Map<String, Object> config) {
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(config, false);
        return serde;
    }

    @Test
    void eachQueryIsScoredByTheModelItNamesWithThatModelsGoldenScores() throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", "unused:9092");
        props.put("schema.registry.url", "mock://routing");
        props.put("state.dir", Files.createTempDirectory("routing").toString());
        props.put("models", "legal,bert");
        props.put("model.legal.dir", FIXTURES.resolve("xlmr-vi-legal").toString());
        props.put("model.bert.dir", FIXTURES.resolve("bert-cross-encoder").toString());
        props.put("model.default", "bert");
        props.put("inference.device", "cpu");
        RerankerConfig config = new RerankerConfig(props);
        Topics topics = Topics.defaults();
        Map<String, Object> serdeConfig = Map.of("schema.registry.url", "mock://routing");
        Serde<RetrievalCandidate> candidateSerde = serde(serdeConfig);
        Serde<RankedResults> resultSerde = serde(serdeConfig);
        Serde<QueryState> stateSerde = serde(serdeConfig);
        List<ModelRegistry.Served> served = config.servedModels();
        try (ModelRegistry registry = ModelRegistry.open(served, config.defaultModel(served));
             TopologyTestDriver driver = new TopologyTestDriver(RerankTopology.build(topics,
                     new RerankTopology.Serdes3(candidateSerde, resultSerde, stateSerde), registry, GatherSettings.defaults()),
                     config.streamsProperties())) {
            TestInputTopic<String, RetrievalCandidate> in = driver.createInputTopic(topics.candidates(), new StringSerializer(),
                    candidateSerde.serializer());
            TestOutputTopic<String, RankedResults> out = driver.createOutputTopic(topics.results(), new StringDeserializer(),
                    resultSerde.deserializer());
            Map<String, Double> expected = new HashMap<>();
            int query = 0;
            for (String[] model : new String[][] {{"legal", "xlmr-vi-legal"}, {null, "bert-cross-encoder"}}) {
                JsonNode golden = JSON.readTree(FIXTURES.resolve(model[1]).resolve("golden.json").toFile());
                for (JsonNode pair : golden.get("pairs")) {
                    String id = "q" + query++;
                    expected.put(id, pair.get("score").asDouble());
                    in.pipeInput(id, RetrievalCandidate.newBuilder().setQueryId(id).setQuery(pair.get("query").asText())
                            .setDocId("d").setText(pair.get("document").asText()).setCandidateCount(1)
                            .setModel(model[0]).setMetadata(Map.of()).build());
                }
            }
            // The real engines score off the stream thread: results go out as the scores arrive.
            List<RankedResults> results = new ArrayList<>(out.readValuesToList());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (results.size() < expected.size() && System.nanoTime() < deadline) {
                Thread.sleep(1);
                driver.advanceWallClockTime(Duration.ofMillis(1));
                results.addAll(out.readValuesToList());
            }
            assertEquals(expected.size(), results.size());
            int legal = 0;
            for (RankedResults r : results) {
                RankedDocument d = r.getResults().get(0);
                assertEquals(expected.get(r.getQueryId()), d.getScore(), 1e-4, r.getQueryId() + " scored by " + r.getModel().getName());
                legal += r.getModel().getName().equals("legal") ? 1 : 0;
            }
            assertEquals(16, legal, "the legal fixture's 16 golden pairs went to it; the rest to the default");
        } finally {
            MockSchemaRegistry.drop("routing");
        }
    }

    @Test
    void anUnknownNameIsRefusedNamingTheServedModels() throws Exception {
        try (ModelRegistry registry = ModelRegistry.open(List.of(new ModelRegistry.Served("bert",
                FIXTURES.resolve("bert-cross-encoder"), dev.kafkareranker.inference.InferenceOptions.defaults())), "bert")) {
            UnknownModelException e = assertThrows(UnknownModelException.class, () -> registry.forModel("medical"));
            assertTrue(e.getMessage().contains("medical") && e.getMessage().contains("[bert]"), e.getMessage());
        }
    }

    @Test
    void aServedModelWithoutItsDirectoryIsAConfigErrorNamingTheKey() {
        RerankerConfig config = new RerankerConfig(Map.of("models", "legal"));
        var e = assertThrows(org.apache.kafka.common.config.ConfigException.class, config::servedModels);
        assertTrue(e.getMessage().contains("model.legal.dir"), e.getMessage());
    }
}
