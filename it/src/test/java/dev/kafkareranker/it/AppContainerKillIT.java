package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Ports;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Exactly-once through crashes of the app's own image: the CPU image (deploy/docker/Dockerfile.cpu, built by
 * deploy/images/build) runs as a container on the test's network next to the Kafka and Apicurio containers,
 * and is {@code docker kill}ed (SIGKILL) while candidates stream in, then started again, the same container
 * with its state directory. A read_committed consumer must then see each query's result exactly once, holding
 * every candidate. Runs only on the container path (failsafe, profile {@code containers}).
 */
class AppContainerKillIT {

    private static final String APP_IMAGE = System.getProperty("it.app.image", "kafka-reranker:0.1.0-SNAPSHOT-cpu");
    private static final int QUERIES = 60;
    private static final int CANDIDATES = 8;
    private static final int KILLS = 3;
    /** The feed's burst (TestProducers.produceSteadily). */
    private static final int BURST = 20;
    private static final String PREFIX = "kill";
    private static final String APPLICATION_ID = "kill-container-test";

    @Test
    void theAppContainerKilledThreeTimesMidStreamLosesAndDuplicatesNothing() throws Exception {
        try (TestCluster.Containers cluster = TestCluster.Containers.start()) {
            System.out.println("kill-container: " + cluster.describe() + "; app image " + APP_IMAGE);
            cluster.createTopics(4, PREFIX + ".candidates");
            cluster.createTopics(2, PREFIX + ".results", PREFIX + ".dlq");
            Pipeline pipeline = new Pipeline(cluster.bootstrapServers(), cluster.registryUrl(), APPLICATION_ID,
                    new Topics(PREFIX + ".candidates", PREFIX + ".results", PREFIX + ".dlq"));

            Random random = new Random(23);
            List<RetrievalCandidate> candidates = TestProducers.interleaved(QUERIES, CANDIDATES, random);

            try (GenericContainer<?> app = appContainer(cluster)) {
                app.start();
                DockerClient docker = DockerClientFactory.instance().client();
                String id = app.getContainerId();
                System.out.println("kill-container: app container " + id.substring(0, 12) + " ports " + ports(docker, id));
                AtomicInteger sent = new AtomicInteger();
                // Each kill at a count of candidates sent, not after a time: mid-stream however slowly a loaded machine restarts.
                int[] killAt = TestProducers.killPoints(candidates.size(), KILLS, random);
                // The feed runs a burst past each kill point, through the kill, and waits there until the restart is ready.
                AtomicInteger allowed = new AtomicInteger(killAt[0] + BURST);
                Thread producer = new Thread(() -> TestProducers.produceSteadily(pipeline, candidates, sent, allowed), "kill-producer");
                producer.start();
                for (int kill = 1; kill <= KILLS; kill++) {
                    int at = killAt[kill - 1];
                    Await.until(at + " candidates sent", Duration.ofMinutes(3), () -> sent.get() >= at, () -> sent.get() + " sent");
                    // docker kill: SIGKILL to the JVM (PID 1), no shutdown hook, no commit.
                    docker.killContainerCmd(id).exec();
                    System.out.printf("kill-container: docker kill %d after %d of %d candidates sent%n", kill, sent.get(),
                            candidates.size());
                    docker.startContainerCmd(id).exec();
                    awaitReady(docker, id, app);
                    allowed.set(kill < KILLS ? killAt[kill] + BURST : candidates.size());
                }
                producer.join();

                Ledger ledger = Ledger.read(pipeline, QUERIES, Duration.ofMinutes(4));
                System.out.printf("kill-container: %d kills; candidates in=%d, results=%d (queries %d), candidates in results=%d,"
                                + " dead letters=%d, queries with duplicate results=%d, reported duplicate candidates=%d%n",
                        KILLS, candidates.size(), ledger.results(), ledger.resultsPerQuery().size(), ledger.candidatesInResults().size(),
                        ledger.deadLetters(), ledger.queriesWithMoreThanOneResult(), ledger.reportedDuplicates());
                InspectContainerResponse state = docker.inspectContainerCmd(id).exec();
                assertTrue(Boolean.TRUE.equals(state.getState().getRunning()), "the app container runs after the last restart; logs:\n"
                        + tail(app.getLogs()));
                // The image says its JVM owns /tmp (KAFKA_RERANKER_OWNS_TMPDIR): each start removed the native library
                // copies its killed predecessor left, so the running JVM's are the only ones.
                String copies = app.execInContainer("sh", "-c", "ls -d /tmp/onnxruntime-java* /tmp/librocksdbjni*.so 2>/dev/null").getStdout();
                System.out.printf("kill-container: native library copies in /tmp after %d kills: %s%n", KILLS, copies.replace('\n', ' '));
                assertTrue(copies.lines().filter(l -> l.contains("onnxruntime-java")).count() <= 1
                        && copies.lines().filter(l -> l.contains("librocksdbjni")).count() <= 1, "at most one copy of each: " + copies);
                assertEquals(QUERIES, ledger.resultsPerQuery().size(), "every query has a result; app logs:\n" + tail(app.getLogs()));
                ledger.resultsPerQuery().forEach((query, count) -> assertEquals(1, count, "results for " + query));
                assertEquals(candidates.size(), ledger.candidatesInResults().size() + ledger.deadLetters(), "every candidate is accounted for");
                assertEquals(0, ledger.deadLetters(), "no dead letters");
                assertEquals(0, ledger.reportedDuplicates(), "no candidate was gathered twice");
            }
        }
    }

    @SuppressWarnings("resource")
    private static GenericContainer<?> appContainer(TestCluster.Containers cluster) {
        return new GenericContainer<>(DockerImageName.parse(APP_IMAGE))
                .withNetwork(cluster.network())
                // The image's own config file, with the wiring as RERANKER_* variables, as compose and the chart do.
                .withEnv("RERANKER_BOOTSTRAP_SERVERS", cluster.internalBootstrapServers())
                .withEnv("RERANKER_SCHEMA_REGISTRY_URL", cluster.internalRegistryUrl())
                .withEnv("RERANKER_APPLICATION_ID", APPLICATION_ID)
                .withEnv("RERANKER_TOPIC_CANDIDATES", PREFIX + ".candidates")
                .withEnv("RERANKER_TOPIC_RESULTS", PREFIX + ".results")
                .withEnv("RERANKER_TOPIC_DEAD_LETTERS", PREFIX + ".dlq")
                .withEnv("RERANKER_REPLICATION_FACTOR", "1")
                .withEnv("RERANKER_INFERENCE_DEVICE", "cpu")
                .withEnv("RERANKER_NUM_STREAM_THREADS", "2")
                // Queries complete by count (candidate_count), never by this timeout, within the test.
                .withEnv("RERANKER_GATHER_MAX_WAIT_MS", "120000")
                // A killed member is noticed after the session timeout; the broker's minimum keeps restarts quick.
                .withEnv("RERANKER_SESSION_TIMEOUT_MS", "6000")
                .withEnv("RERANKER_HEARTBEAT_INTERVAL_MS", "1000")
                .withEnv("RERANKER_COMMIT_INTERVAL_MS", "200")
                .withEnv("JAVA_TOOL_OPTIONS", "-Xmx768m")
                .withExposedPorts(8080)
                // Ready = the model is loaded and Kafka Streams is RUNNING (AdminServer). Three minutes: a JVM and
                // ONNX Runtime start on a loaded 2-core machine.
                .waitingFor(Wait.forHttp("/health/ready").forPort(8080).forStatusCode(200).withStartupTimeout(Duration.ofMinutes(3)));
    }

    /** After {@code docker start} the published port is a new one: read it again, then wait for ready. */
    private static void awaitReady(DockerClient docker, String id, GenericContainer<?> app) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            Integer port = hostPort(docker, id);
            if (port != null) {
                try {
                    HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health/ready"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                    if (ready.statusCode() == 200) {
                        return;
                    }
                } catch (java.io.IOException e) {
                    // Not listening yet.
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the restarted app container " + id + " was not ready within 3 minutes; logs:\n" + tail(app.getLogs()));
    }

    private static Integer hostPort(DockerClient docker, String id) {
        Ports.Binding[] bindings = docker.inspectContainerCmd(id).exec().getNetworkSettings().getPorts().getBindings()
                .get(ExposedPort.tcp(8080));
        return bindings == null || bindings.length == 0 ? null : Integer.valueOf(bindings[0].getHostPortSpec());
    }

    private static String ports(DockerClient docker, String id) {
        StringBuilder out = new StringBuilder();
        docker.inspectContainerCmd(id).exec().getNetworkSettings().getPorts().getBindings().forEach((port, bindings) -> {
            for (Ports.Binding b : bindings == null ? new Ports.Binding[0] : bindings) {
                out.append(port).append(" -> ").append(b.getHostIp()).append(':').append(b.getHostPortSpec()).append(' ');
            }
        });
        return out.toString().trim();
    }

    private static String tail(String logs) {
        return logs.length() <= 6_000 ? logs : logs.substring(logs.length() - 6_000);
    }
}
