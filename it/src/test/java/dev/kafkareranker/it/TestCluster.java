package dev.kafkareranker.it;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.serde.MockSchemaRegistry;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Where the end-to-end tests run: Testcontainers' Kafka (apache/kafka) and a Confluent Schema Registry
 * container when a Docker engine answers, else the in-JVM KRaft broker and the in-process registry.
 * Each run prints which, so a CI log says what was actually tested.
 */
interface TestCluster extends AutoCloseable {

    String KAFKA_IMAGE = "apache/kafka:4.1.1";
    String REGISTRY_IMAGE = "confluentinc/cp-schema-registry:8.1.0";

    String bootstrapServers();

    String registryUrl();

    String describe();

    default void createTopics(int partitions, String... names) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
            admin.createTopics(Arrays.stream(names).map(n -> new NewTopic(n, partitions, (short) 1)).toList()).all().get();
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create topics " + Arrays.toString(names) + ": " + e.getMessage(), e);
        }
    }

    @Override
    void close();

    static TestCluster start(String registryScope) {
        TestCluster cluster = dockerAvailable() ? new Containers() : new InJvm(registryScope);
        System.out.println("it: " + cluster.describe());
        return cluster;
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** The in-JVM broker and the mock:// registry. */
    final class InJvm implements TestCluster {
        private final EmbeddedKafka kafka = EmbeddedKafka.start();
        private final String scope;

        InJvm(String scope) {
            this.scope = scope;
        }

        @Override
        public String bootstrapServers() {
            return kafka.bootstrapServers();
        }

        @Override
        public String registryUrl() {
            return "mock://" + scope;
        }

        @Override
        public String describe() {
            return "no Docker engine: in-JVM KRaft broker (KafkaClusterTestKit) at " + bootstrapServers()
                    + " and the in-process registry " + registryUrl();
        }

        @Override
        public void close() {
            kafka.close();
            MockSchemaRegistry.drop(scope);
        }
    }

    /** Kafka and a Schema Registry in Docker, on one network. */
    final class Containers implements TestCluster {
        private final Network network = Network.newNetwork();
        private final KafkaContainer kafka;
        private final GenericContainer<?> registry;

        @SuppressWarnings("resource")
        Containers() {
            kafka = new KafkaContainer(KAFKA_IMAGE)
                    .withNetwork(network)
                    .withListener("kafka:19092")
                    // One broker: the transaction log must not wait for replicas that do not exist.
                    .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                    .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                    .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                    .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
            kafka.start();
            registry = new GenericContainer<>(REGISTRY_IMAGE)
                    .withNetwork(network)
                    .withEnv("SCHEMA_REGISTRY_HOST_NAME", "schema-registry")
                    .withEnv("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:8081")
                    .withEnv("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "PLAINTEXT://kafka:19092")
                    .withExposedPorts(8081)
                    .waitingFor(Wait.forHttp("/subjects").forStatusCode(200));
            registry.start();
        }

        @Override
        public String bootstrapServers() {
            return kafka.getBootstrapServers();
        }

        @Override
        public String registryUrl() {
            return "http://" + registry.getHost() + ":" + registry.getMappedPort(8081);
        }

        @Override
        public String describe() {
            return "Docker: Testcontainers " + KAFKA_IMAGE + " at " + bootstrapServers() + " and " + REGISTRY_IMAGE + " at " + registryUrl();
        }

        @Override
        public void close() {
            registry.stop();
            kafka.stop();
            network.close();
        }
    }
}
