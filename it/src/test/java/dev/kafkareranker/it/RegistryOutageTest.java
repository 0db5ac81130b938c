package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The Schema Registry (the project's registry test server, over HTTP) is unavailable for 60 s mid-stream:
 * 30 s refusing connections, then 30 s answering 503, with the app restarted (an empty schema cache)
 * while it answers 503. Candidates keep coming throughout (the producer's schema id is cached). Every
 * candidate must end in its query's single result, none as a dead letter, and readiness must say the
 * registry is unavailable while it is.
 */
class RegistryOutageTest {

    private static final String PREFIX = "registry-outage";
    private static final Duration PHASE = Duration.ofSeconds(30);

    @Test
    void aSixtySecondOutageWithARestartInsideItLosesNothingAndDeadLettersNothing() throws Exception {
        try (FakeSchemaRegistryServer registry = FakeSchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(4, PREFIX + ".candidates", PREFIX + ".results", PREFIX + ".dlq");
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", kafka.bootstrapServers());
            props.put("schema.registry.url", registry.url());
            props.put("application.id", "registry-outage-test");
            props.put(RerankerConfig.ADMIN_PORT, "0");
            props.put("state.dir", Files.createTempDirectory("registry-outage-state").toString());
            props.put(RerankerConfig.TOPIC_CANDIDATES, PREFIX + ".candidates");
            props.put(RerankerConfig.TOPIC_RESULTS, PREFIX + ".results");
            props.put(RerankerConfig.TOPIC_DEAD_LETTERS, PREFIX + ".dlq");
            // Longer than the outage: what is checked is that the registry's fault loses nothing, not the max wait.
            props.put(RerankerConfig.GATHER_MAX_WAIT_MS, "300000");
            props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
            props.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
            RerankerConfig config = new RerankerConfig(props);

            AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
            serializer.configure(Map.of("schema.registry.url", registry.url()), false);
            Set<String> sent = new HashSet<>();
            int queries = 0;
            String redBefore;
            String redAfterRestart;
            try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(
                    Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), serializer)) {
                RerankerApp app = RerankerApp.create(config);
                try {
                    app.start();
                    sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "before-", 4, 3));
                    queries += 4;
                    // Running and warm (schemas cached) before the outage.
                    ResultCount.await(kafka.bootstrapServers(), PREFIX + ".results", queries, Duration.ofMinutes(3));

                    registry.refuseConnections();
                    // A query half sent before the outage, finished during it; and whole queries during it.
                    sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "refused-", 4, 3));
                    queries += 4;
                    redBefore = awaitRed(app);
                    Thread.sleep(PHASE.toMillis() / 2);
                    sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "refused-late-", 2, 3));
                    queries += 2;
                    Thread.sleep(PHASE.toMillis() / 2);

                    registry.acceptConnections();
                    registry.answerAllWith(503);
                    app.close();
                } catch (Exception | Error e) {
                    app.close();
                    throw e;
                }
                // Restarted while the registry answers 503: its schema cache is empty.
                try (RerankerApp restarted = RerankerApp.create(config)) {
                    restarted.start();
                    sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "unavailable-", 4, 3));
                    queries += 4;
                    redAfterRestart = awaitRed(restarted);
                    Thread.sleep(PHASE.toMillis());
                    registry.answerNormally();
                    sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "after-", 2, 3));
                    queries += 2;

                    Ledger ledger = Ledger.read(kafka.bootstrapServers(), registry.url(), PREFIX + ".results", PREFIX + ".dlq", queries,
                            Duration.ofSeconds(3), Duration.ofMinutes(4));
                    System.out.printf("registry-outage: candidates in=%d, in results=%d, dead letters=%d, queries %d of %d,"
                                    + " queries with duplicate results=%d; readiness while down: '%s' / after the restart: '%s'%n",
                            sent.size(), ledger.candidatesInResults().size(), ledger.deadLetters(), ledger.resultsPerQuery().size(), queries,
                            ledger.queriesWithMoreThanOneResult(), redBefore.replace('\n', ' '), redAfterRestart.replace('\n', ' '));
                    assertEquals(queries, ledger.resultsPerQuery().size(), "every query has a result: " + ledger.resultsPerQuery().keySet());
                    assertEquals(0, ledger.queriesWithMoreThanOneResult(), "no query has two results");
                    Set<String> missing = new HashSet<>(sent);
                    missing.removeAll(ledger.candidatesInResults());
                    assertTrue(missing.isEmpty(), "candidates in no result: " + missing);
                    assertEquals(0, ledger.deadLetters(), "valid input is never a dead letter for the registry's fault");
                    assertTrue(restarted.state().isRunningOrRebalancing(), "state " + restarted.state());
                }
            }
        }
    }


    /** Waits (generously) for GET /health/ready to answer 503 naming the registry; returns its body. */
    private static String awaitRed(RerankerApp app) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.adminPort() + "/health/ready"))
                .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + PHASE.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            last = response.statusCode() + " " + response.body();
            if (response.statusCode() == 503 && response.body().contains("schema registry unavailable")) {
                return response.body().strip();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("readiness did not name the unavailable registry within " + PHASE + "; last answer: " + last);
    }
}
