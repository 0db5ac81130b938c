package dev.kafkareranker.app;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The partition count of each candidates topic, looked up once at start: the topology sizes its
 * repartition topic by the largest (so that a record already on its query's partition can skip it), and
 * each gathering task waits for the watermarks of every input partition. A topic that does not exist is
 * a start-up error naming it.
 */
final class InputPartitions {

    /** How long the broker may take to answer: it must answer before anything else can run anyway. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Where the look-up runs at start, beside the rest of the set-up (one daemon thread, made when first used). */
    static final java.util.concurrent.Executor EXECUTOR = task -> {
        Thread t = new Thread(task, "reranker-topic-look-up");
        t.setDaemon(true);
        t.start();
    };

    private InputPartitions() {
    }

    /** The look-up's answer, or what it threw. */
    static Map<String, Integer> await(java.util.concurrent.CompletableFuture<Map<String, Integer>> lookUp) {
        try {
            return lookUp.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    static Map<String, Integer> lookUp(Properties streamsProps, List<String> topics) {
        Properties admin = new Properties();
        streamsProps.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k.toString())) {
                admin.put(k, v);
            }
        });
        admin.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        try (Admin client = Admin.create(admin)) {
            Map<String, TopicDescription> found = client.describeTopics(topics).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Integer> out = new LinkedHashMap<>();
            topics.forEach(t -> out.put(t, found.get(t).partitions().size()));
            return out;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException("A candidates topic does not exist (topic.candidates=" + String.join(",", topics)
                        + "): " + e.getCause().getMessage() + "; create it, or set topic.candidates to the topic the retriever writes to", e);
            }
            throw new IllegalStateException("Cannot describe the candidates topics " + topics + " on " + admin.get("bootstrap.servers")
                    + ": " + e.getCause(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("The broker at bootstrap.servers=" + admin.get("bootstrap.servers") + " did not describe the"
                    + " candidates topics " + topics + " within " + TIMEOUT.toSeconds() + " s; check that it runs and that this host reaches it", e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("Cannot look up the candidates topics " + topics + ": " + e.getMessage()
                    + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while describing the candidates topics " + topics, e);
        }
    }
}
