package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
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
            TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), PREFIX).topics(4, 4)
                    .applicationId("registry-outage-test").adminEndpoint()
                    // Longer than the outage: what is checked is that the registry's fault loses nothing, not the max wait.
                    .set(RerankerConfig.GATHER_MAX_WAIT_MS, 300_000);
            // One state.dir for both starts: the second is a restart in place.
            RerankerConfig config = setup.config();
            String candidates = setup.topics().candidates();

            Set<String> sent = new HashSet<>();
            int queries = 0;
            String redBefore;
            String redAfterRestart;
            try (KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(setup.pipeline());
                 ResultWatcher watcher = new ResultWatcher(setup.pipeline())) {
                try (RerankerApp app = setup.start(config)) {
                    sent.addAll(TestProducers.sendQueries(producer, candidates, "before-", 4, 3));
                    queries += 4;
                    // Running and warm (schemas cached) before the outage.
                    watcher.awaitQueries(queries, Duration.ofMinutes(3));

                    registry.refuseConnections();
                    // A query half sent before the outage, finished during it; and whole queries during it.
                    sent.addAll(TestProducers.sendQueries(producer, candidates, "refused-", 4, 3));
                    queries += 4;
                    redBefore = awaitRed(app);
                    // The outage's length is the scenario (not a synchronisation): candidates keep coming through it.
                    Thread.sleep(PHASE.toMillis() / 2);
                    sent.addAll(TestProducers.sendQueries(producer, candidates, "refused-late-", 2, 3));
                    queries += 2;
                    Thread.sleep(PHASE.toMillis() / 2);

                    registry.acceptConnections();
                    registry.answerAllWith(503);
                }
                // Restarted while the registry answers 503: its schema cache is empty.
                try (RerankerApp restarted = setup.start(config)) {
                    sent.addAll(TestProducers.sendQueries(producer, candidates, "unavailable-", 4, 3));
                    queries += 4;
                    redAfterRestart = awaitRed(restarted);
                    Thread.sleep(PHASE.toMillis());
                    registry.answerNormally();
                    sent.addAll(TestProducers.sendQueries(producer, candidates, "after-", 2, 3));
                    queries += 2;

                    watcher.awaitQueries(queries, Duration.ofMinutes(4));
                    Ledger ledger = Ledger.toTheEnd(watcher, setup.pipeline(), Duration.ofMinutes(4));
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
        String[] last = {""};
        Await.until("readiness to name the unavailable registry", PHASE, () -> {
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                last[0] = response.statusCode() + " " + response.body();
                return response.statusCode() == 503 && response.body().contains("schema registry unavailable");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }, () -> "last answer: " + last[0]);
        return last[0].substring(last[0].indexOf(' ') + 1).strip();
    }
}
