package dev.kafkareranker.it;

import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.tracing.Tracing;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.serving.ModelRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The one way an it test sets up the app: its settings (a broker, a registry, topics PREFIX.candidates,
 * PREFIX.results and PREFIX.dlq, the tiny BERT cross-encoder on the CPU, a fresh state.dir, no admin endpoint),
 * what the test changes of them, the topics made before the first start, an optional model loader (a named
 * fault or delay wrapper around the real session), and a start that returns only once Kafka Streams is
 * RUNNING ({@link Running}). The same settings run the app in this JVM ({@link #start()}) or in a child JVM
 * ({@link #child}), where a test must SIGKILL it.
 *
 * <pre>{@code
 * TestApp.Builder app = TestApp.on(kafka.bootstrapServers(), registry.url(), "modelfail").topics(4, 4)
 *         .set(RerankerConfig.GATHER_MAX_WAIT_MS, 120_000).loader(FaultyModels.loader(faults));
 * try (RerankerApp running = app.start()) { ... Ledger.read(app.pipeline(), queries, PATIENCE) ... }
 * }</pre>
 */
final class TestApp {

    static final Path BERT = fixture("bert-cross-encoder");
    /** fp32, so scores are exact whatever the batching. */
    static final Path BI_ENCODER = fixture("bi-encoder");

    private TestApp() {
    }

    private static Path fixture(String name) {
        return Path.of("..", "tools", "fixtures", name).toAbsolutePath().normalize();
    }

    /** The app of topics PREFIX.*, application.id PREFIX-test, on {@code bootstrap} and {@code registryUrl}. */
    static Builder on(String bootstrap, String registryUrl, String prefix) {
        return new Builder(bootstrap, registryUrl, prefix);
    }

    /**
     * The app of topics PREFIX.* on {@code cluster}, for a child JVM: the in-process {@code mock://} registry of the
     * in-JVM path is not shared across JVMs, so there the child gets {@code fallback}'s HTTP one.
     */
    static Builder childOn(TestCluster cluster, dev.kafkareranker.serde.FakeSchemaRegistryServer fallback, String prefix) {
        String registry = cluster.registryUrl().startsWith("mock:") ? fallback.url() : cluster.registryUrl();
        return on(cluster.bootstrapServers(), registry, prefix);
    }

    static final class Builder {
        private final String bootstrap;
        private final String registryUrl;
        private final Topics topics;
        private final Map<String, Object> settings = new HashMap<>();
        private final Map<String, String> candidatesTopicConfig = new HashMap<>();
        private int candidatePartitions = -1;
        private int outputPartitions = -1;
        private boolean topicsMade;
        private Function<ModelRegistry.Served, Scorer> loader;
        private Tracing tracing;

        private Builder(String bootstrap, String registryUrl, String prefix) {
            this.bootstrap = bootstrap;
            this.registryUrl = registryUrl;
            this.topics = new Topics(prefix + ".candidates", prefix + ".results", prefix + ".dlq");
            settings.put("bootstrap.servers", bootstrap);
            settings.put("schema.registry.url", registryUrl);
            settings.put("application.id", prefix + "-test");
            settings.put(RerankerConfig.TOPIC_CANDIDATES, topics.candidates());
            settings.put(RerankerConfig.TOPIC_RESULTS, topics.results());
            settings.put(RerankerConfig.TOPIC_DEAD_LETTERS, topics.deadLetters());
            settings.put(RerankerConfig.MODEL_DIR, BERT.toString());
            settings.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
            settings.put(RerankerConfig.ADMIN_PORT, "-1");
            // Long enough that every query of a test completes by its candidate_count; a test about the max wait sets its own.
            settings.put(RerankerConfig.GATHER_MAX_WAIT_MS, "60000");
        }

        Builder applicationId(String id) {
            return set("application.id", id);
        }

        /** Makes the candidates topic with {@code candidates} partitions and the results and dead-letter topics with {@code outputs}. */
        Builder topics(int candidates, int outputs) {
            this.candidatePartitions = candidates;
            this.outputPartitions = outputs;
            return this;
        }

        /** A topic-level setting of the candidates topic (max.message.bytes for records over the broker's 1 MB default). */
        Builder candidatesTopicConfig(String key, String value) {
            candidatesTopicConfig.put(key, value);
            return this;
        }

        Builder model(Path dir) {
            return set(RerankerConfig.MODEL_DIR, dir.toAbsolutePath().toString());
        }

        /** The admin endpoint on a free port (health, metrics). */
        Builder adminEndpoint() {
            return set(RerankerConfig.ADMIN_PORT, "0");
        }

        /** One of the settings above left out: model.dir where {@code models} names several, each with its own dir. */
        Builder unset(String key) {
            settings.remove(key);
            return this;
        }

        /** Any setting the app reads, as a user would write it. */
        Builder set(String key, Object value) {
            settings.put(key, value.toString());
            return this;
        }

        /** The models opened by {@code loader} rather than from model.dir as is (in this JVM only). */
        Builder loader(Function<ModelRegistry.Served, Scorer> loader) {
            this.loader = loader;
            return this;
        }

        /** Query spans exported by {@code tracing} (in this JVM only; the test closes it, which flushes its spans). */
        Builder tracing(Tracing tracing) {
            this.tracing = tracing;
            return this;
        }

        Topics topics() {
            return topics;
        }

        /** Whether {@code key} is set. */
        boolean has(String key) {
            return settings.containsKey(key);
        }

        String applicationId() {
            return settings.get("application.id").toString();
        }

        /**
         * Where the app reads and writes, its topics made first (when {@link #topics(int, int)} asked for them): a reader
         * or producer made before the app would otherwise have the broker auto-create them with one partition.
         */
        Pipeline pipeline() {
            makeTopics();
            return new Pipeline(bootstrap, registryUrl, applicationId(), topics);
        }

        /** The settings with a state.dir made for them (each call a new one: a second instance, not a restart). */
        RerankerConfig config() throws IOException {
            Map<String, Object> props = new HashMap<>(settings);
            props.putIfAbsent("state.dir", Files.createTempDirectory(applicationId() + "-state").toString());
            return new RerankerConfig(props);
        }

        /** The app in this JVM, made but not started: for a test that adds a state listener or starts it later. */
        RerankerApp create(RerankerConfig config) {
            makeTopics();
            if (loader != null && tracing != null) {
                throw new IllegalArgumentException("RerankerApp.create takes a model loader or a Tracing, not both");
            }
            return loader == null ? RerankerApp.create(config, tracing) : RerankerApp.create(config, loader);
        }

        /** The app in this JVM, started and RUNNING; closed again if it does not get there. */
        RerankerApp start() throws IOException, InterruptedException {
            return start(config());
        }

        /** {@link #start()} with {@code config}: the same settings and state.dir again, as a restart in place has them. */
        RerankerApp start(RerankerConfig config) throws InterruptedException {
            RerankerApp app = create(config);
            try {
                app.start();
                Running.await(app);
                return app;
            } catch (RuntimeException | Error | InterruptedException e) {
                app.close();
                throw e;
            }
        }

        /**
         * The app as a child JVM ({@code Main run --config FILE}) whose home is {@code dir} (state.dir, log, tmpdir),
         * with two stream threads unless set; made, not started ({@link ChildApp#startAndAwaitRunning()}).
         */
        ChildApp child(Path dir, List<String> jvmOptions) throws IOException {
            if (registryUrl.startsWith("mock:")) {
                throw new IllegalArgumentException("a child JVM cannot see the in-process registry " + registryUrl
                        + ": give it an HTTP one (FakeSchemaRegistryServer, or the cluster's)");
            }
            makeTopics();
            Map<String, String> child = new HashMap<>();
            settings.forEach((k, v) -> child.put(k, v.toString()));
            child.putIfAbsent("num.stream.threads", "2");
            child.put("state.dir", Files.createDirectories(dir.resolve("state")).toString());
            return new ChildApp(dir, child, jvmOptions);
        }

        private void makeTopics() {
            if (topicsMade || candidatePartitions < 0) {
                return;
            }
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic(topics.candidates(), candidatePartitions, (short) 1).configs(candidatesTopicConfig),
                        new NewTopic(topics.results(), outputPartitions, (short) 1),
                        new NewTopic(topics.deadLetters(), outputPartitions, (short) 1))).all().get();
            } catch (Exception e) {
                throw new IllegalStateException("Cannot create the topics of " + topics + ": " + e.getMessage(), e);
            }
            topicsMade = true;
        }
    }
}
