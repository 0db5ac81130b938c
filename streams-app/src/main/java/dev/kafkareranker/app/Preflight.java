package dev.kafkareranker.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code run} checks before it loads a model: the settings it cannot run without, a registry other
 * processes can reach, a broker that answers (and accepts these credentials) within
 * {@code startup.broker.timeout.ms}, and the topics (created when {@code topics.create=true}). Each failure is
 * one line saying what to change ({@link Failed}); nothing here waits longer than the bound.
 *
 * <p>Why before the model: the model takes seconds to load, and a newcomer's first mistakes (no
 * {@code --config}, no topics, a broker not started) are all visible from here.
 */
final class Preflight {

    private static final Logger LOG = LoggerFactory.getLogger(Preflight.class);

    static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

    /** A check that failed: its message is the one line the user reads. */
    static final class Failed extends RuntimeException {
        Failed(String message) {
            super(message);
        }
    }

    private Preflight() {
    }

    /** The checks that need no broker: required settings, model directories, and a registry other processes reach. */
    static void checkSettings(RerankerConfig config, Optional<Path> configFile) {
        Map<String, Object> given = config.originals();
        List<String> missing = new ArrayList<>();
        for (String key : List.of(BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL)) {
            Object value = given.get(key);
            if (value == null || value.toString().isBlank()) {
                missing.add(key);
            }
        }
        if (!missing.isEmpty()) {
            String where = configFile.map(f -> "add them to " + f).orElse("pass --config FILE");
            throw new Failed("run needs " + String.join(" and ", missing) + ": " + where + " (docs/configuration.md has a minimal file;"
                    + " bin/reranker broker writes one for its development stack), or set " + String.join(" / ",
                    missing.stream().map(k -> RerankerConfig.ENV_PREFIX + k.toUpperCase(java.util.Locale.ROOT).replace('.', '_')).toList()));
        }
        // Each model directory holds a model (its JSON files read, nothing loaded): a typo costs one line, not a broker check.
        config.servedModels();
        String registry = given.get(SCHEMA_REGISTRY_URL).toString();
        if (Arrays.stream(registry.split(",")).anyMatch(u -> u.strip().startsWith("mock://"))) {
            throw new Failed("schema.registry.url=" + registry + " is an in-process registry that only this process can read, so no"
                    + " producer or consumer could share its schema ids: set it to a Schema Registry other processes reach"
                    + " (bin/reranker broker serves one for development at http://localhost:8081)");
        }
    }

    /**
     * The broker answers within startup.broker.timeout.ms and accepts these credentials; the candidates, results and
     * dead-letter topics exist, or are created (topics.create=true).
     */
    static void checkCluster(RerankerConfig config) {
        Properties streamsProps = config.streamsProperties();
        StreamsConfig streamsConfig = new StreamsConfig(streamsProps);
        String bootstrap = String.valueOf(streamsProps.get(BOOTSTRAP_SERVERS));
        long timeoutMs = config.getLong(RerankerConfig.STARTUP_BROKER_TIMEOUT_MS);
        FatalErrors fatal = FatalErrors.of(config);
        Map<String, Object> adminProps = streamsConfig.getAdminConfigs("reranker-preflight");
        try (QuietClientLogs quiet = QuietClientLogs.start(); Admin admin = Admin.create(adminProps)) {
            try {
                admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE, timeoutMs)))
                        .clusterId().get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                throw new Failed(fatal.describe(cause).orElse("no Kafka broker answered at " + bootstrap + " within " + timeoutMs
                        + " ms (" + cause.getClass().getSimpleName() + "): start one (bin/reranker broker for development), or correct"
                        + " bootstrap.servers; startup.broker.timeout.ms sets how long to wait"));
            }
            checkTopics(config, admin, bootstrap, timeoutMs, fatal);
            warnIfNewIdentity(admin, streamsConfig, streamsProps, timeoutMs);
        } catch (KafkaException e) {
            // Admin.create: no resolvable address in bootstrap.servers, a bad security setting.
            throw new Failed("cannot connect to bootstrap.servers=" + bootstrap + ": " + e.getMessage()
                    + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failed("interrupted while checking the broker at " + bootstrap);
        }
    }

    /** Every topic the pipeline reads or writes: topic.candidates (a list), topic.results, topic.dead.letters. */
    static Set<String> topics(RerankerConfig config) {
        Set<String> names = new LinkedHashSet<>();
        for (String name : config.getString(RerankerConfig.TOPIC_CANDIDATES).split(",")) {
            if (!name.isBlank()) {
                names.add(name.strip());
            }
        }
        names.add(config.getString(RerankerConfig.TOPIC_RESULTS));
        names.add(config.getString(RerankerConfig.TOPIC_DEAD_LETTERS));
        return names;
    }

    private static void checkTopics(RerankerConfig config, Admin admin, String bootstrap, long timeoutMs, FatalErrors fatal)
            throws InterruptedException {
        List<String> missing = new ArrayList<>();
        for (String topic : topics(config)) {
            try {
                admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs((int) timeoutMs)).allTopicNames()
                        .get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    missing.add(topic);
                } else {
                    throw new Failed(fatal.describe(e.getCause()).orElse("cannot describe topic '" + topic + "' on " + bootstrap + ": "
                            + e.getCause()));
                }
            } catch (java.util.concurrent.TimeoutException e) {
                throw new Failed("the broker at " + bootstrap + " did not describe topic '" + topic + "' within " + timeoutMs + " ms");
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        int partitions = config.getInt(RerankerConfig.TOPICS_CREATE_PARTITIONS);
        short replication = config.getShort(RerankerConfig.TOPICS_CREATE_REPLICATION_FACTOR);
        if (!config.getBoolean(RerankerConfig.TOPICS_CREATE)) {
            String first = missing.get(0);
            throw new Failed((missing.size() == 1 ? "topic '" + first + "' does not" : "topics " + missing + " do not") + " exist on "
                    + bootstrap + ": create " + (missing.size() == 1 ? "it" : "them") + " (kafka-topics.sh --bootstrap-server "
                    + bootstrap + " --create --topic " + first + " --partitions " + partitions + (replication > 0 ? " --replication-factor "
                    + replication : "") + "), or set topics.create=true to have run create " + (missing.size() == 1 ? "it" : "them")
                    + " (topics.create.partitions, topics.create.replication.factor)");
        }
        List<NewTopic> toCreate = missing.stream()
                .map(name -> new NewTopic(name, Optional.of(partitions), replication > 0 ? Optional.of(replication) : Optional.empty()))
                .toList();
        try {
            admin.createTopics(toCreate).values().forEach((name, future) -> {
                try {
                    future.get(timeoutMs, TimeUnit.MILLISECONDS);
                    LOG.info("Created topic {} ({} partitions, replication factor {}): topics.create=true", name, partitions,
                            replication > 0 ? replication : "the broker's default");
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new Failed(fatal.describe(e.getCause()).orElse("cannot create topic '" + name + "' on " + bootstrap
                                + " (topics.create=true): " + e.getCause().getMessage()));
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new Failed("the broker at " + bootstrap + " did not create topic '" + name + "' within " + timeoutMs + " ms");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Failed("interrupted while creating topic '" + name + "'");
                }
            });
        } catch (KafkaException e) {
            throw new Failed("cannot create topics " + missing + " on " + bootstrap + ": " + e.getMessage());
        }
    }

    /**
     * Says why the first results may take a minute: Kafka Streams keeps its process id (and with it the
     * transactional ids of its producers) in state.dir, so an instance whose state.dir was wiped cannot fence the
     * transaction an earlier, killed run left open; read_committed reads of its partitions wait until the broker
     * aborts it at transaction.timeout.ms. Only when an earlier run of this application.id committed offsets on this
     * cluster: on a first start (or the demo's new broker) there is nothing to wait for, and nothing to say.
     */
    private static void warnIfNewIdentity(Admin admin, StreamsConfig streamsConfig, Properties streamsProps, long timeoutMs) {
        Path appDir = Path.of(streamsConfig.getString(StreamsConfig.STATE_DIR_CONFIG), streamsConfig.getString(StreamsConfig.APPLICATION_ID_CONFIG));
        if (Files.exists(appDir.resolve("kafka-streams-process-metadata"))) {
            return;
        }
        String group = streamsConfig.getString(StreamsConfig.APPLICATION_ID_CONFIG);
        try {
            boolean ranBefore = !admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().timeoutMs((int) timeoutMs))
                    .partitionsToOffsetAndMetadata().get(timeoutMs, TimeUnit.MILLISECONDS).isEmpty();
            if (ranBefore) {
                LOG.warn("No Kafka Streams process metadata under {}, but application.id {} ran on this cluster before: this instance"
                        + " starts with a new process id. If that run was killed mid-transaction, reading its partitions waits until the"
                        + " broker aborts that transaction (producer transaction.timeout.ms, {} ms here). Keep state.dir on a volume"
                        + " that survives restarts to avoid it.", appDir, group,
                        streamsProps.getProperty(StreamsConfig.producerPrefix("transaction.timeout.ms"), "60000"));
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
            // Not allowed to describe the group, or slow: the warning is advice, never a reason not to start.
            LOG.debug("Could not read the committed offsets of group {}", group, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
