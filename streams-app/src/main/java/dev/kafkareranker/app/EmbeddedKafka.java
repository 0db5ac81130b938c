package dev.kafkareranker.app;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real one-node KRaft cluster (broker and controller combined) in this JVM, for the demo and the
 * tests. Not for production: its logs live in a temporary directory deleted on close.
 */
public final class EmbeddedKafka implements AutoCloseable {

    /** The listener added for a fixed client port: the test kit binds its own listeners to ports it picks. */
    private static final String FIXED_PORT_LISTENER = "DEV";

    private final KafkaClusterTestKit cluster;
    private final int clientPort;

    private EmbeddedKafka(KafkaClusterTestKit cluster, int clientPort) {
        this.cluster = cluster;
        this.clientPort = clientPort;
    }

    /** A broker on a free port of the test kit's choosing. */
    public static EmbeddedKafka start() {
        return start(0);
    }

    /**
     * A broker whose clients connect to localhost:{@code clientPort} (0: a free port of the test kit's choosing).
     * The test kit binds its own listeners to sockets it opened in advance on ports it picked, whatever port a
     * listener names, so a fixed port needs a listener of its own.
     */
    public static EmbeddedKafka start(int clientPort) {
        try {
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    // A directory of our own, which close() deletes: the test kit's default registers a shutdown hook
                    // that deletes it, which at Ctrl-C races the broker's own shutdown (and its last writes) there.
                    .setBaseDirectory(java.nio.file.Files.createTempDirectory("kafka-reranker-broker-"))
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build());
            if (clientPort > 0) {
                builder.setConfigProp("listeners", "EXTERNAL://localhost:0,CONTROLLER://localhost:0," + FIXED_PORT_LISTENER + "://localhost:" + clientPort)
                        .setConfigProp("listener.security.protocol.map", "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + FIXED_PORT_LISTENER + ":PLAINTEXT");
            }
            KafkaClusterTestKit cluster = builder
                    // One node: internal topics must not ask for more replicas than exist, or
                    // consumer groups and transactions wait forever.
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "4")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "4")
                    // Tests and the demo start one consumer group at a time: no reason to wait for more members.
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .build();
            formatQuietly(cluster);
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafka(cluster, clientPort);
        } catch (Exception e) {
            throw new IllegalStateException("The embedded Kafka broker did not start: " + e.getMessage(), e);
        }
    }

    /** The storage formatter prints its bootstrap records to stdout, which would garble the demo's output. */
    private static void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
        java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            cluster.format();
        } finally {
            System.setOut(stdout);
        }
    }

    public String bootstrapServers() {
        return clientPort > 0 ? "localhost:" + clientPort : cluster.bootstrapServers();
    }

    /**
     * Settings of a consumer in group {@code group} that reads from the beginning and sees only
     * committed records: exactly what a downstream consumer of the exactly-once pipeline would see.
     */
    public Map<String, Object> readCommittedConsumerProps(String group) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return props;
    }

    /** Creates topics with {@code partitions} partitions each and waits until they exist. */
    public void createTopics(int partitions, String... names) {
        createTopics(partitions, Map.of(), names);
    }

    /** Creates topics with {@code partitions} partitions and the given topic configs. */
    public void createTopics(int partitions, Map<String, String> configs, String... names) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
            admin.createTopics(java.util.Arrays.stream(names).map(n -> new NewTopic(n, partitions, (short) 1).configs(configs)).toList())
                    .all().get();
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create topics " + List.of(names) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } catch (Exception e) {
            throw new IllegalStateException("The embedded Kafka broker did not stop cleanly", e);
        }
    }
}
