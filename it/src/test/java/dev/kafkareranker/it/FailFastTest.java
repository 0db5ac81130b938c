package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.serde.DevSchemaRegistryServer;
import java.io.IOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.JaasUtils;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} against brokers that cannot serve it: each case ends with one line naming the cause and what to
 * change, and a non-zero exit, within 30 s of the process starting (or, asked to, creates what is missing). The
 * brokers are real: a plain one, and one with a SASL/PLAIN listener (KafkaClusterTestKit's, whose users are
 * plain-admin, a super user, and plain-user1, who has no ACL); the app runs in a child JVM as {@code run} does.
 */
class FailFastTest {

    private static final Duration WITHIN = Duration.ofSeconds(30);

    @TempDir
    static Path shared;

    private static EmbeddedKafka plain;
    private static KafkaClusterTestKit sasl;
    private static DevSchemaRegistryServer registry;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBrokers() throws Exception {
        plain = EmbeddedKafka.start();
        registry = DevSchemaRegistryServer.start(new InetSocketAddress("localhost", 0));
        sasl = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .setBrokerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT)
                .setControllerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT)
                .build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .build();
        sasl.format();
        sasl.startup();
        sasl.waitForReadyBrokers();
    }

    @AfterAll
    static void stopBrokers() throws Exception {
        if (sasl != null) {
            sasl.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (plain != null) {
            plain.close();
        }
    }

    private Path config(Map<String, String> settings) throws IOException {
        Properties props = new Properties();
        props.put("schema.registry.url", "http://localhost:" + registry.port());
        props.put("admin.port", "0");
        props.put("state.dir", dir.resolve("state").toString());
        props.put("model.dir", Path.of("..", "tools", "fixtures", "bert-cross-encoder").toAbsolutePath().toString());
        props.put("inference.device", "cpu");
        props.putAll(settings);
        Path file = dir.resolve("reranker.properties");
        try (Writer out = Files.newBufferedWriter(file)) {
            props.store(out, null);
        }
        return file;
    }

    private Map<String, String> saslSettings(String user, String password, String prefix) {
        Map<String, String> settings = topics(prefix);
        settings.put("bootstrap.servers", sasl.bootstrapServers());
        settings.put("security.protocol", "SASL_PLAINTEXT");
        settings.put("sasl.mechanism", "PLAIN");
        settings.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";");
        return settings;
    }

    private static Map<String, String> topics(String prefix) {
        Map<String, String> settings = new HashMap<>();
        settings.put("topic.candidates", prefix + ".candidates");
        settings.put("topic.results", prefix + ".results");
        settings.put("topic.dead.letters", prefix + ".dlq");
        return settings;
    }

    /** Runs {@code run --config} to its end and checks: non-zero, within 30 s, one line of ours holding every fragment, no stack trace. */
    private String assertEndsInOneLine(Path config, String... fragments) throws Exception {
        try (MainProcess run = MainProcess.start(dir, "run", List.of("run", "--config", config.toString()), Map.of(), null)) {
            int code = run.awaitExit(Duration.ofMinutes(3));
            double seconds = run.seconds();
            List<String> err = run.stderrLines();
            assertTrue(code != 0, "exit " + code + run.describe());
            List<String> ours = err.stream().filter(l -> l.startsWith("reranker: ")).toList();
            assertEquals(1, ours.size(), run.describe());
            for (String fragment : fragments) {
                assertTrue(ours.get(0).contains(fragment), ours.get(0) + " lacks '" + fragment + "'");
            }
            assertEquals(List.of(), err.stream().filter(l -> !l.startsWith("reranker: ")).toList(), "nothing else on stderr");
            assertTrue(seconds < WITHIN.toSeconds(), "ended " + seconds + " s after it started" + run.describe());
            System.out.printf("run ended with %d after %.1f s: %s%n", code, seconds, ours.get(0));
            return ours.get(0);
        }
    }

    @Test
    void aMissingInputTopicEndsRunNamingTheTopicAndHowToCreateIt() throws Exception {
        Map<String, String> settings = topics("ff-missing");
        settings.put("bootstrap.servers", plain.bootstrapServers());
        plain.createTopics(1, "ff-missing.results", "ff-missing.dlq");
        assertEndsInOneLine(config(settings), "'ff-missing.candidates'", "does not exist", "kafka-topics.sh", "topics.create=true");
    }

    @Test
    void topicsCreateMakesTheMissingTopicsWithTheConfiguredPartitions() throws Exception {
        Map<String, String> settings = topics("ff-create");
        settings.put("bootstrap.servers", plain.bootstrapServers());
        settings.put("topics.create", "true");
        settings.put("topics.create.partitions", "3");
        try (MainProcess run = MainProcess.start(dir, "run", List.of("run", "--config", config(settings).toString()), Map.of(), null);
             Admin admin = Admin.create(Map.of("bootstrap.servers", plain.bootstrapServers()))) {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            Set<String> wanted = Set.of("ff-create.candidates", "ff-create.results", "ff-create.dlq");
            while (!admin.listTopics().names().get().containsAll(wanted)) {
                assertTrue(run.alive() && System.nanoTime() < end, "topics not created" + run.describe());
                Thread.sleep(200);
            }
            admin.describeTopics(wanted).allTopicNames().get().values()
                    .forEach(t -> assertEquals(3, t.partitions().size(), t.name()));
        }
    }

    @Test
    void anUnreachableBrokerEndsRunNamingTheAddress() throws Exception {
        Map<String, String> settings = topics("ff-down");
        String nobody = "127.0.0.1:" + MainProcess.freePort();
        settings.put("bootstrap.servers", nobody);
        assertEndsInOneLine(config(settings), "no Kafka broker answered at " + nobody, "startup.broker.timeout.ms");
    }

    @Test
    void aWrongSaslPasswordEndsRunNamingAuthenticationAndTheSetting() throws Exception {
        assertEndsInOneLine(config(saslSettings(JaasUtils.KAFKA_PLAIN_ADMIN, "not-the-password", "ff-sasl")), "refused authentication",
                "sasl.jaas.config", sasl.bootstrapServers());
    }

    @Test
    void aUserWithoutAclsEndsRunNamingWhatToGrant() throws Exception {
        createSaslTopics("ff-acl");
        assertEndsInOneLine(config(saslSettings(JaasUtils.KAFKA_PLAIN_USER1, JaasUtils.KAFKA_PLAIN_USER1_PASSWORD, "ff-acl")),
                "refused", "grant");
    }

    @Test
    void theRightSaslPasswordPassesTheChecksAndStartsThePipeline() throws Exception {
        createSaslTopics("ff-ok");
        Path config = config(saslSettings(JaasUtils.KAFKA_PLAIN_ADMIN, JaasUtils.KAFKA_PLAIN_ADMIN_PASSWORD, "ff-ok"));
        try (MainProcess run = MainProcess.start(dir, "run", List.of("run", "--config", config.toString()), Map.of(), null)) {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (run.stderrLines().stream().noneMatch(l -> l.contains("REBALANCING -> RUNNING"))) {
                assertTrue(run.alive() && System.nanoTime() < end, "not running" + run.describe());
                Thread.sleep(200);
            }
        }
    }

    /**
     * Defence in depth, past the start-up checks: an input topic deleted under a running app is an error no retry
     * cures (Kafka Streams raises MissingSourceTopicException at every rebalance), so the app stops once, in one line
     * of its own, instead of replacing its stream threads forever.
     */
    @Test
    void anInputTopicDeletedWhileRunningStopsTheAppOnceWithOneLine() throws Exception {
        Map<String, String> settings = topics("ff-deleted");
        settings.put("bootstrap.servers", plain.bootstrapServers());
        plain.createTopics(2, "ff-deleted.candidates", "ff-deleted.results", "ff-deleted.dlq");
        try (MainProcess run = MainProcess.start(dir, "run", List.of("run", "--config", config(settings).toString()), Map.of(), null);
             Admin admin = Admin.create(Map.of("bootstrap.servers", plain.bootstrapServers()))) {
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (run.stderrLines().stream().noneMatch(l -> l.contains("REBALANCING -> RUNNING"))) {
                assertTrue(run.alive() && System.nanoTime() < end, "not running" + run.describe());
                Thread.sleep(200);
            }
            long deleted = System.nanoTime();
            admin.deleteTopics(List.of("ff-deleted.candidates")).all().get();
            int code = run.awaitExit(Duration.ofMinutes(2));
            double seconds = (System.nanoTime() - deleted) / 1e9;
            List<String> err = run.stderrLines();
            assertEquals(1, code, run.describe());
            assertEquals(1, err.stream().filter(l -> l.contains("Stopping: an input topic is missing")).count(), run.describe());
            assertTrue(err.stream().noneMatch(l -> l.contains("replacing it")), "no thread replaced" + run.describe());
            assertTrue(seconds < WITHIN.toSeconds(), "stopped " + seconds + " s after the deletion");
            System.out.printf("run stopped %.1f s after the deletion: %s%n", seconds,
                    err.stream().filter(l -> l.contains("Stopping:")).findFirst().orElseThrow());
        }
    }

    private static void createSaslTopics(String prefix) throws Exception {
        try (Admin admin = sasl.admin()) {
            admin.createTopics(List.of(new NewTopic(prefix + ".candidates", 1, (short) 1), new NewTopic(prefix + ".results", 1, (short) 1),
                    new NewTopic(prefix + ".dlq", 1, (short) 1))).all().get();
        }
    }
}
