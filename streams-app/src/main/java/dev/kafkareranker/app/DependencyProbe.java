package dev.kafkareranker.app;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What readiness waits for besides Kafka Streams and the models, each named when it is missing: the Schema
 * Registry ({@link RegistryProbe}), a broker that answers, the pipeline's topics, and an error that stopped the
 * app ({@link FatalErrors}). Kafka Streams' state alone cannot say it: with no broker it stays REBALANCING (or
 * RUNNING, until a commit times out), and its clients retry without a word.
 */
final class DependencyProbe implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DependencyProbe.class);
    /** As the registry probe's: an outage is seen within seconds, and one look never holds the next back long. */
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private final RegistryProbe registry;
    private final FatalErrors fatal;
    private final Map<String, Object> adminProps;
    private final String bootstrap;
    private final Set<String> topics;
    private Admin admin;
    private volatile String kafka = "";

    DependencyProbe(RerankerConfig config) {
        this.registry = new RegistryProbe(Objects.toString(config.serdeConfig().get(Preflight.SCHEMA_REGISTRY_URL), null));
        this.fatal = FatalErrors.of(config);
        java.util.Properties props = config.streamsProperties();
        this.bootstrap = String.valueOf(props.get(Preflight.BOOTSTRAP_SERVERS));
        this.adminProps = new StreamsConfig(props).getAdminConfigs("reranker-readiness");
        this.topics = Preflight.topics(config);
    }

    /** The stream threads' classifier, whose cause readiness names once it stopped the app. */
    FatalErrors fatalErrors() {
        return fatal;
    }

    /** Looks at the registry, the broker and the topics; called every few seconds off the stream threads. */
    void probe() {
        registry.probe();
        changed(kafkaProblem());
    }

    /** Empty while the Schema Registry answers, else why not: the input gate holds the input back meanwhile. */
    String registryUnavailable() {
        return registry.unavailable();
    }

    /** Empty while everything answers, else one line per thing that does not. */
    String unavailable() {
        List<String> lines = new ArrayList<>();
        fatal.cause().ifPresent(cause -> lines.add("stopped: " + cause));
        if (!kafka.isEmpty()) {
            lines.add(kafka);
        }
        if (!registry.unavailable().isEmpty()) {
            lines.add(registry.unavailable());
        }
        return String.join("\n", lines);
    }

    private String kafkaProblem() {
        try {
            synchronized (this) {
                if (admin == null) {
                    admin = Admin.create(adminProps);
                }
            }
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) TIMEOUT.toMillis())).clusterId()
                    .get(TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
            List<String> missing = new ArrayList<>();
            for (String topic : topics) {
                try {
                    admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs((int) TIMEOUT.toMillis())).allTopicNames()
                            .get(TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        missing.add(topic);
                    } else {
                        throw e;
                    }
                }
            }
            return missing.isEmpty() ? "" : "topics missing on " + bootstrap + ": " + missing;
        } catch (ExecutionException e) {
            return fatal.describe(e.getCause()).orElse("no Kafka broker answers at " + bootstrap + " (" + e.getCause().getClass().getSimpleName()
                    + ")");
        } catch (java.util.concurrent.TimeoutException e) {
            return "no Kafka broker answers at " + bootstrap + " within " + TIMEOUT.toMillis() + " ms";
        } catch (KafkaException e) {
            return "cannot reach the brokers at " + bootstrap + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return kafka;
        }
    }

    private void changed(String now) {
        if (!now.equals(kafka)) {
            if (now.isEmpty()) {
                LOG.info("The broker answers and the topics exist again; readiness no longer waits for them");
            } else {
                LOG.warn("Readiness is down: {}", now);
            }
        }
        kafka = now;
    }

    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
        }
    }
}
