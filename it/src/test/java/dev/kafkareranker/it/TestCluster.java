package dev.kafkareranker.it;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.serde.MockSchemaRegistry;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Where the end-to-end tests run, chosen by the system property {@value #MODE_PROPERTY}:
 * <ul>
 *   <li>{@code in-jvm} (the default, what {@code bin/test} runs): the in-JVM KRaft broker
 *       (KafkaClusterTestKit) and the in-process registry;</li>
 *   <li>{@code containers} (the {@code containers} Maven profile, which {@code .ci/containers} runs): the
 *       local Kafka image in Testcontainers' {@link KafkaContainer} and Apicurio Registry through its
 *       Confluent-compatible API, both built by {@code deploy/images/build}; no Docker engine is an error;</li>
 *   <li>{@code auto}: containers when a Docker engine answers, else in-JVM.</li>
 * </ul>
 * The default is not {@code auto} because a Docker engine alone is not enough on every machine: CI
 * machines also need {@code TESTCONTAINERS_HOST_OVERRIDE} and Ryuk disabled, which {@code .ci/containers}
 * sets. Each run prints which path it took and the image names, so a CI log says what was tested.
 */
interface TestCluster extends AutoCloseable {

    String MODE_PROPERTY = "it.cluster";
    /** The images deploy/images/build makes (it prints these names); override to test others. */
    String KAFKA_IMAGE = System.getProperty("it.kafka.image", "kafka-reranker/kafka:4.3.1");
    String REGISTRY_IMAGE = System.getProperty("it.registry.image", "kafka-reranker/apicurio:3.3.3");
    /** Apicurio serves Confluent's Schema Registry API under this path. */
    String CCOMPAT_PATH = "/apis/ccompat/v7";

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
        String mode = System.getProperty(MODE_PROPERTY, "in-jvm").toLowerCase(Locale.ROOT);
        TestCluster cluster = switch (mode) {
            case "in-jvm" -> new InJvm(registryScope, MODE_PROPERTY + "=in-jvm");
            case "containers" -> {
                if (!dockerAvailable()) {
                    throw new IllegalStateException(MODE_PROPERTY + "=containers but no Docker engine answers: start one"
                            + " (deploy/images/build --engine) or run with -D" + MODE_PROPERTY + "=in-jvm");
                }
                yield Containers.start();
            }
            case "auto" -> dockerAvailable() ? Containers.start()
                    : new InJvm(registryScope, MODE_PROPERTY + "=auto and no Docker engine answers");
            default -> throw new IllegalArgumentException(MODE_PROPERTY + "=" + mode
                    + ": expected in-jvm, containers or auto (set in it/pom.xml's containers profile or with -D)");
        };
        System.out.println("it: " + cluster.describe());
        return cluster;
    }

    static boolean dockerAvailable() {
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
        private final String why;

        InJvm(String scope, String why) {
            this.scope = scope;
            this.why = why;
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
            return "path in-JVM (" + why + "): KRaft broker (KafkaClusterTestKit) at " + bootstrapServers()
                    + " and the in-process registry " + registryUrl();
        }

        @Override
        public void close() {
            kafka.close();
            MockSchemaRegistry.drop(scope);
        }
    }

    /**
     * Kafka and Apicurio Registry in Docker, on a network of their own. Inside it Kafka is
     * {@value #KAFKA_ALIAS}:{@value #KAFKA_INTERNAL_PORT} and the registry
     * http://{@value #REGISTRY_ALIAS}:8080{@value #CCOMPAT_PATH}, for containers the tests start there.
     */
    final class Containers implements TestCluster {
        static final String KAFKA_ALIAS = "kafka";
        static final int KAFKA_INTERNAL_PORT = 19092;
        static final String REGISTRY_ALIAS = "registry";

        private final Network network;
        private final KafkaContainer kafka;
        private final GenericContainer<?> registry;

        private Containers(Network network, KafkaContainer kafka, GenericContainer<?> registry) {
            this.network = network;
            this.kafka = kafka;
            this.registry = registry;
        }

        @SuppressWarnings("resource")
        static Containers start() {
            Network network = localNetwork();
            // The local image is laid out like apache/kafka (deploy/images/kafka/Dockerfile), which is what
            // KafkaContainer checks the name against.
            KafkaContainer kafka = new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE).asCompatibleSubstituteFor("apache/kafka"))
                    .withNetwork(network)
                    .withListener(KAFKA_ALIAS + ":" + KAFKA_INTERNAL_PORT)
                    // Topics are created by the tests, with their partition counts; auto-creation would hide a
                    // test that writes to a topic it never made.
                    .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                    // One broker: the offsets and transaction logs must not wait for replicas that cannot exist,
                    // and the share-group state topic neither (Kafka 4 creates it).
                    .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
                    .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
                    // Several partitions for __consumer_offsets (KafkaContainer sets 1): the tests run many groups.
                    .withEnv("KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS", "3");
            GenericContainer<?> registry = new GenericContainer<>(DockerImageName.parse(REGISTRY_IMAGE))
                    .withNetwork(network)
                    .withNetworkAliases(REGISTRY_ALIAS)
                    .withExposedPorts(8080)
                    .waitingFor(Wait.forHttp(CCOMPAT_PATH + "/subjects").forPort(8080).forStatusCode(200));
            try {
                kafka.start();
                registry.start();
            } catch (RuntimeException e) {
                registry.stop();
                kafka.stop();
                network.close();
                throw new IllegalStateException("Cannot start " + KAFKA_IMAGE + " or " + REGISTRY_IMAGE
                        + " (built by deploy/images/build; other names with -Dit.kafka.image / -Dit.registry.image): "
                        + e.getMessage(), e);
            }
            return new Containers(network, kafka, registry);
        }

        /**
         * A bridge network whose published ports bind 127.0.0.1 only: {@code Network.newNetwork()} would publish
         * on every interface of the host.
         */
        static Network localNetwork() {
            return Network.builder()
                    .createNetworkCmdModifier(cmd -> cmd.withOptions(Map.of("com.docker.network.bridge.host_binding_ipv4", "127.0.0.1")))
                    .build();
        }

        Network network() {
            return network;
        }

        /** Kafka's address for containers on {@link #network()}. */
        String internalBootstrapServers() {
            return KAFKA_ALIAS + ":" + KAFKA_INTERNAL_PORT;
        }

        /** The registry's Confluent-compatible URL for containers on {@link #network()}. */
        String internalRegistryUrl() {
            return "http://" + REGISTRY_ALIAS + ":8080" + CCOMPAT_PATH;
        }

        @Override
        public String bootstrapServers() {
            return kafka.getBootstrapServers();
        }

        @Override
        public String registryUrl() {
            return "http://" + registry.getHost() + ":" + registry.getMappedPort(8080) + CCOMPAT_PATH;
        }

        @Override
        public String describe() {
            return "path containers (Docker " + DockerClientFactory.instance().getActiveApiVersion() + "): Testcontainers "
                    + KAFKA_IMAGE + " at " + bootstrapServers() + " and " + REGISTRY_IMAGE + " (Apicurio, Confluent API) at "
                    + registryUrl();
        }

        @Override
        public void close() {
            registry.stop();
            kafka.stop();
            network.close();
        }
    }
}
