package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.inference.FaultyModels;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.IntPredicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/**
 * A model that fails persistently (a fake CUDA fault around the real ONNX session), then recovers, and a
 * model call that hangs, on a real broker and the registry test server over HTTP. While the model fails,
 * its circuit breaker opens, readiness turns red, the input is paused and queries wait in the store for
 * the model instead of becoming dead letters (no task fails); once the fault clears, every query comes out
 * once with all its candidates. A hung call ends in the batch timeout and its query is scored again.
 */
class ModelFailureTest {

    private static final String PREFIX = "modelfail";
    private static final Duration PATIENCE = Duration.ofMinutes(3);
    /** The most rows one batch holds: the issue allows at most one batch's worth of dead letters. */
    private static final int BATCH_MAX_ROWS = 32;

    @Test
    void aPersistentModelFaultTurnsReadinessRedLosesNothingAndAHungCallEndsInTheTimeout() throws Exception {
        FaultyModels.Faults faults = new FaultyModels.Faults();
        try (FakeSchemaRegistryServer registry = FakeSchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), PREFIX).topics(4, 4)
                    .applicationId("model-failure-test").adminEndpoint().loader(FaultyModels.loader(faults))
                    // Long: no query may go out incomplete while the model is down; this test is about the model.
                    .set(RerankerConfig.GATHER_MAX_WAIT_MS, 120_000)
                    .set(RerankerConfig.INFERENCE_BATCH_MAX_ROWS, BATCH_MAX_ROWS)
                    // A hung call is given up after 3 s (default 30 s, which would only make this test slower).
                    .set(RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS, 3_000)
                    .set(RerankerConfig.INFERENCE_BREAKER_BACKOFF_MS, 1_000);

            try (RerankerApp app = setup.start();
                 KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(setup.pipeline());
                 ResultWatcher watcher = new ResultWatcher(setup.pipeline())) {
                Set<String> sent = new HashSet<>(TestProducers.sendQueries(producer, setup.topics().candidates(), "ok-", 4, 3));
                watcher.awaitQueries(4, PATIENCE);
                awaitReadiness(app, code -> code == 200, "ready before any fault");

                faults.failing = true;
                long faultAt = System.nanoTime();
                sent.addAll(TestProducers.sendQueries(producer, setup.topics().candidates(), "down-", 10, 3));
                awaitReadiness(app, code -> code == 503, "red while every model call fails");
                long redMs = (System.nanoTime() - faultAt) / 1_000_000;
                // The fault lasts through three more failed calls (the breaker's probes, 1 s apart) once the input is
                // paused: what is checked is that it stays paused while the model refuses work, and queries do not churn.
                Await.until("the input to be paused while the model fails", PATIENCE, () -> app.streams().isPaused());
                int failedAtPause = faults.failed.get();
                Await.until("three more failed model calls with the input paused", PATIENCE,
                        () -> faults.failed.get() >= failedAtPause + 3, () -> (faults.failed.get() - failedAtPause) + " failed");
                int failedWhileDown = faults.failed.get();
                assertTrue(app.streams().isPaused(), "input is paused while the model refuses work");

                faults.failing = false;
                long clearedAt = System.nanoTime();
                awaitReadiness(app, code -> code == 200, "ready again once a probe batch succeeds");
                long backMs = (System.nanoTime() - clearedAt) / 1_000_000;

                faults.hangNext = true;
                sent.addAll(TestProducers.sendQueries(producer, setup.topics().candidates(), "hung-", 2, 3));

                int queries = 4 + 10 + 2;
                watcher.awaitQueries(queries, PATIENCE);
                Ledger ledger = Ledger.toTheEnd(watcher, setup.pipeline(), PATIENCE);
                // The hung call's thread records how long it hung once it is released, which may come after its query's
                // retry has been answered.
                Await.until("the hung call to end", PATIENCE, () -> !faults.hangMillis.isEmpty());
                System.out.printf("model-failure: candidates in=%d, in results=%d, dead letters=%d, queries with duplicate results=%d;"
                                + " readiness red after %d ms, ready again %d ms after the fault cleared; failed model calls %d;"
                                + " hung calls %d, ended after ms %s (cancelled %d)%n",
                        sent.size(), ledger.candidatesInResults().size(), ledger.deadLetters(), ledger.queriesWithMoreThanOneResult(),
                        redMs, backMs, failedWhileDown, faults.hangsStarted.get(), faults.hangMillis, faults.cancelledHangs.get());
                assertEquals(queries, ledger.resultsPerQuery().size(), "every query has a result: " + ledger.resultsPerQuery().keySet());
                assertEquals(0, ledger.queriesWithMoreThanOneResult(), "no query has two results");
                Set<String> missing = new HashSet<>(sent);
                missing.removeAll(ledger.candidatesInResults());
                assertTrue(missing.isEmpty(), "candidates in no result: " + missing);
                assertTrue(ledger.deadLetters() <= BATCH_MAX_ROWS, "at most one batch's worth of dead letters, saw " + ledger.deadLetters());
                assertEquals(1, faults.hangsStarted.get(), "one model call hung");
                // Ended by the engine at inference.batch.timeout.ms (3 s): far below the fake's own 300 s bound.
                assertEquals(1, faults.hangMillis.size(), "the hung call ended");
                assertTrue(faults.hangMillis.get(0) < 60_000, "the hung call ended in the batch timeout, not the fake's bound: "
                        + faults.hangMillis);
                assertTrue(app.state().isRunningOrRebalancing(), "state " + app.state());
            }
        }
    }

    /** Asks GET /health/ready until {@code wanted} holds for its status; generous, as a loaded machine is slow. */
    private static void awaitReadiness(RerankerApp app, IntPredicate wanted, String what) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.adminPort() + "/health/ready"))
                .timeout(Duration.ofSeconds(10)).build();
        int[] last = {-1};
        Await.until("readiness: " + what, Duration.ofSeconds(60), () -> {
            try {
                last[0] = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return wanted.test(last[0]);
        }, () -> "GET /health/ready still answers " + last[0]);
    }
}
