package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.inference.FaultyModels;
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
import java.util.function.IntPredicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
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
            kafka.createTopics(4, PREFIX + ".candidates", PREFIX + ".results", PREFIX + ".dlq");
            Map<String, Object> props = new HashMap<>();
            props.put("bootstrap.servers", kafka.bootstrapServers());
            props.put("schema.registry.url", registry.url());
            props.put("application.id", "model-failure-test");
            props.put(RerankerConfig.ADMIN_PORT, "0");
            props.put("state.dir", Files.createTempDirectory("model-failure-state").toString());
            props.put(RerankerConfig.TOPIC_CANDIDATES, PREFIX + ".candidates");
            props.put(RerankerConfig.TOPIC_RESULTS, PREFIX + ".results");
            props.put(RerankerConfig.TOPIC_DEAD_LETTERS, PREFIX + ".dlq");
            // Long: no query may go out incomplete while the model is down; this test is about the model.
            props.put(RerankerConfig.GATHER_MAX_WAIT_MS, "120000");
            props.put(RerankerConfig.MODEL_DIR, Path.of("..", "tools", "fixtures", "bert-cross-encoder").toString());
            props.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
            props.put(RerankerConfig.INFERENCE_BATCH_MAX_ROWS, Integer.toString(BATCH_MAX_ROWS));
            // A hung call is given up after 3 s (default 30 s, which would only make this test slower).
            props.put(RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS, "3000");
            props.put(RerankerConfig.INFERENCE_BREAKER_BACKOFF_MS, "1000");

            try (RerankerApp app = RerankerApp.create(new RerankerConfig(props), FaultyModels.loader(faults));
                 KafkaProducer<String, RetrievalCandidate> producer = producer(kafka, registry)) {
                app.start();
                awaitState(app);
                Set<String> sent = new HashSet<>(TestProducers.sendQueries(producer, PREFIX + ".candidates", "ok-", 4, 3));
                ResultCount.await(kafka.bootstrapServers(), PREFIX + ".results", 4, PATIENCE);
                awaitReadiness(app, code -> code == 200, "ready before any fault");

                faults.failing = true;
                long faultAt = System.nanoTime();
                sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "down-", 10, 3));
                awaitReadiness(app, code -> code == 503, "red while every model call fails");
                long redMs = (System.nanoTime() - faultAt) / 1_000_000;
                // Let the fault last: the input is paused meanwhile, so queries do not churn.
                Thread.sleep(5_000);
                int failedWhileDown = faults.failed.get();
                assertTrue(app.streams().isPaused(), "input is paused while the model refuses work");

                faults.failing = false;
                long clearedAt = System.nanoTime();
                awaitReadiness(app, code -> code == 200, "ready again once a probe batch succeeds");
                long backMs = (System.nanoTime() - clearedAt) / 1_000_000;

                faults.hangNext = true;
                sent.addAll(TestProducers.sendQueries(producer, PREFIX + ".candidates", "hung-", 2, 3));

                int queries = 4 + 10 + 2;
                Ledger ledger = Ledger.read(kafka.bootstrapServers(), registry.url(), PREFIX + ".results", PREFIX + ".dlq", queries,
                        Duration.ofSeconds(3), PATIENCE);
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

    private static KafkaProducer<String, RetrievalCandidate> producer(EmbeddedKafka kafka, FakeSchemaRegistryServer registry) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", registry.url()), false);
        return new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(), serializer);
    }


    private static void awaitState(RerankerApp app) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (app.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    /** Polls GET /health/ready until {@code wanted} holds for its status; generous, as a loaded machine is slow. */
    private static void awaitReadiness(RerankerApp app, IntPredicate wanted, String what) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.adminPort() + "/health/ready"))
                .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (wanted.test(last)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("readiness: " + what + ", but GET /health/ready still answered " + last + " after 60 s");
    }
}
