package dev.kafkareranker.app;

import dev.kafkareranker.gather.CountingExceptionHandlers;
import dev.kafkareranker.gather.GatherSettings;
import dev.kafkareranker.gather.ScoringBacklog;
import dev.kafkareranker.gather.RerankTopology;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import dev.kafkareranker.serving.ModelWatcher;
import dev.kafkareranker.tracing.Tracing;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running pipeline: the model, the topology and the Kafka Streams instance that runs it. */
public final class RerankerApp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RerankerApp.class);

    private final ModelRegistry models;
    private final ModelWatcher watcher;
    private final KafkaStreams streams;
    private final Startup startup;
    /** state.dir/application.id: Kafka Streams' state, and this app's marker of a clean stop. */
    private final java.nio.file.Path appDir;
    private final RerankerMetrics metrics;
    private final AdminServer.Settings adminSettings;
    private final Topics topics;
    private AdminServer admin;
    /** Runs the registry probe and the input gate's looks. */
    private java.util.concurrent.ScheduledExecutorService gateThreads;
    private final InputGate gate;
    /** The registry, the broker and the topics as readiness sees them, and what stopped the app (FatalErrors). */
    private final DependencyProbe registry;
    /** Whether this instance's static membership name was derived (InstanceIdentity), not set: it then leaves the group on a clean stop. */
    private final boolean derivedIdentity;
    /** Where query spans go; closed (flushed) with the app when the app made it from the environment. */
    private final Tracing tracing;
    private final boolean ownsTracing;

    private RerankerApp(ModelRegistry models, InputGate gate, ModelWatcher watcher, KafkaStreams streams, Startup startup,
                        java.nio.file.Path appDir, RerankerMetrics metrics, AdminServer.Settings adminSettings, Topics topics,
                        DependencyProbe registry, boolean derivedIdentity, Tracing tracing, boolean ownsTracing) {
        this.tracing = tracing;
        this.ownsTracing = ownsTracing;
        this.startup = startup;
        this.appDir = appDir;
        this.topics = topics;
        this.registry = registry;
        this.models = models;
        this.gate = gate;
        this.watcher = watcher;
        this.streams = streams;
        this.metrics = metrics;
        this.adminSettings = adminSettings;
        this.derivedIdentity = derivedIdentity;
    }

    /**
     * Loads the models and builds the topology; nothing runs until {@link #start()}. The models load on a
     * thread of their own while Kafka Streams is set up (its clients: class loading, mostly).
     */
    public static RerankerApp create(RerankerConfig config) {
        return create(config, (Tracing) null);
    }

    /**
     * As {@link #create(RerankerConfig)}, with query spans going to {@code tracing} (the caller closes it), or, when
     * null, to what the environment configures ({@link Tracing#fromEnvironment}: OTEL_* variables, otel.* system
     * properties, the Java agent), closed with the app.
     */
    public static RerankerApp create(RerankerConfig config, Tracing tracing) {
        List<ModelRegistry.Served> served = config.servedModels();
        String defaultName = config.defaultModel(served);
        java.util.concurrent.CompletableFuture<ModelRegistry> loading = new java.util.concurrent.CompletableFuture<>();
        Thread loader = new Thread(() -> {
            long loadStart = System.nanoTime();
            try {
                ModelRegistry models = ModelRegistry.open(served, defaultName);
                LOG.info("Start-up: models loaded in {} ms ({})", (System.nanoTime() - loadStart) / 1_000_000, Startup.jvmUp());
                loading.complete(models);
            } catch (Throwable e) {
                loading.completeExceptionally(e);
            }
        }, "reranker-model-load");
        loader.setDaemon(true);
        loader.start();
        return create(config, loading, tracing);
    }

    /**
     * With the models opened by {@code loader}: for tests whose model must fail or slow down on cue (a
     * fault-injecting or delaying wrapper around the real ONNX session), what a CPU cannot be made to do.
     */
    public static RerankerApp create(RerankerConfig config, java.util.function.Function<ModelRegistry.Served, Scorer> loader) {
        List<ModelRegistry.Served> served = config.servedModels();
        return create(config, java.util.concurrent.CompletableFuture.completedFuture(
                ModelRegistry.withLoader(served, config.defaultModel(served), loader)), null);
    }

    private static RerankerApp create(RerankerConfig config, java.util.concurrent.CompletableFuture<ModelRegistry> loading, Tracing given) {
        KafkaStreams streams = null;
        Tracing tracing = given;
        try {
            if (tracing == null) {
                tracing = Tracing.fromEnvironment();
            }
            StartupChecks.warnIgnoredSettings(config);
            StartupChecks.defaultModelsServed(config);
            GatherSettings gather = config.gatherSettings();
            Properties streamsProps = config.streamsProperties();
            // On a thread of its own, beside the models' load and the rest of the set-up: a broker round trip (and the admin
            // client's classes) that only the topology waits for.
            Properties lookUpProps = (Properties) streamsProps.clone();
            long lookUpStart = System.nanoTime();
            java.util.concurrent.CompletableFuture<java.util.Map<String, Integer>> lookUp = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> InputPartitions.lookUp(lookUpProps, RerankTopology.inputTopics(config.topics())), InputPartitions.EXECUTOR);
            StreamsConfig streamsConfig = new StreamsConfig(streamsProps);
            java.nio.file.Path appDir = appStateDir(streamsConfig);
            boolean derivedIdentity = !streamsProps.containsKey(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
            if (derivedIdentity) {
                streamsProps.put(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, InstanceIdentity.of(appDir));
            }
            KeyBounds.check(config, streamsProps).forEach(LOG::warn);
            // The metrics need the loaded models; the topology only something to report to.
            ForwardingListener listener = new ForwardingListener();
            java.util.concurrent.atomic.AtomicLong resumedAt = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
            ScoringBacklog backlog = new ScoringBacklog(gather.maxInFlightQueries());
            RerankTopology.Serdes3 serdes = AvroSerdes.create(config);
            java.util.Map<String, Integer> partitions = InputPartitions.await(lookUp);
            LOG.info("Start-up: candidates topics' partitions {} looked up in {} ms ({})", partitions, (System.nanoTime() - lookUpStart) / 1_000_000,
                    Startup.jvmUp());
            Topology topology = RerankTopology.build(config.topics(), serdes, gated(() -> loaded(loading), resumedAt), gather,
                    new RerankTopology.Wiring(config.defaultModelByTopic(), listener, partitions, backlog, tracing));
            long streamsStart = System.nanoTime();
            streams = new KafkaStreams(topology, streamsProps);
            // The constructor makes each stream thread's clients (consumer, restore consumer, producer): most of
            // a start-up's class loading.
            LOG.info("Start-up: Kafka Streams set up in {} ms ({})", (System.nanoTime() - streamsStart) / 1_000_000, Startup.jvmUp());
            // After the constructor, which locks the state directory against other instances, and before start().
            CrashedState.prepare(appDir, StreamsConfig.EXACTLY_ONCE_V2.equals(streamsConfig.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)));
            DependencyProbe dependencies = new DependencyProbe(config);
            // Errors no retry cures (credentials, ACLs, a missing topic) stop the app with one line; the rest replace the thread.
            streams.setUncaughtExceptionHandler(dependencies.fatalErrors().handler(RerankerApp::replaceThread));
            Startup startup = new Startup();
            streams.setStateListener(startup);
            streams.setGlobalStateRestoreListener(startup);
            ModelRegistry models = loaded(loading);
            RerankerMetrics metrics = new RerankerMetrics(models);
            InputGate gate = new InputGate(InputGate.Input.of(streams), InputGate.Models.of(models), backlog::saturated, dependencies::registryUnavailable,
                    System::currentTimeMillis, resumedAt);
            listener.target = metrics;
            listener.gate = gate;
            CountingExceptionHandlers.report(listener);
            metrics.bind(streams);
            long watchMs = config.getLong(RerankerConfig.MODELS_WATCH_INTERVAL_MS);
            ModelWatcher watcher = watchMs > 0 ? new ModelWatcher(models, Duration.ofMillis(watchMs),
                    Duration.ofMillis(config.getLong(RerankerConfig.MODELS_WATCH_SETTLE_MS))) : null;
            return new RerankerApp(models, gate, watcher, streams, startup, appDir, metrics, AdminServer.Settings.from(config), config.topics(),
                    dependencies, derivedIdentity, tracing, given == null);
        } catch (RuntimeException | Error e) {
            if (streams != null) {
                streams.close(Duration.ofSeconds(5));
            }
            if (given == null && tracing != null) {
                tracing.close();
            }
            // Once loaded, whether this failed before or after the load.
            loading.thenAccept(ModelRegistry::close);
            throw e;
        }
    }

    /** The loaded models, once they are; a failed load throws what the loader threw. */
    private static ModelRegistry loaded(java.util.concurrent.CompletableFuture<ModelRegistry> loading) {
        try {
            return loading.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /**
     * Hands what the topology reports to the metrics, which exist only once the models are loaded, and logs
     * the start's last milestone: the first result forwarded (readers see it at the commit that follows,
     * within commit.interval.ms).
     */
    private static final class ForwardingListener implements dev.kafkareranker.gather.GatherListener {
        volatile dev.kafkareranker.gather.GatherListener target = dev.kafkareranker.gather.GatherListener.NONE;
        volatile InputGate gate;
        private final java.util.concurrent.atomic.AtomicBoolean firstEmitted = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void queryEmitted(String model, int pairs, long scoringMs, long gatherToEmitMs, boolean complete) {
            if (!firstEmitted.get() && firstEmitted.compareAndSet(false, true)) {
                LOG.info("Start-up: first result forwarded ({})", Startup.jvmUp());
            }
            target.queryEmitted(model, pairs, scoringMs, gatherToEmitMs, complete);
        }

        @Override
        public void deadLettered(String reason, int candidates) {
            target.deadLettered(reason, candidates);
        }

        @Override
        public void pendingChanged(int delta) {
            target.pendingChanged(delta);
        }

        @Override
        public void inFlightChanged(int delta) {
            target.inFlightChanged(delta);
        }

        @Override
        public void transientFault(Throwable cause) {
            InputGate g = gate;
            if (g != null) {
                g.fault(cause);
            }
        }
    }

    /**
     * A stream thread that died of an error that was not one record's fault (the handlers fail the task for
     * those: registry unavailable, serializer, store, engine) is replaced: its transaction aborted, its tasks
     * are revived from their changelogs and the input is processed again. Waiting a second first keeps a
     * persistent failure from spinning through thread replacements; the default, shutting the client down,
     * would stop the whole pipeline for a fault that is often gone seconds later.
     */
    static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse replaceThread(Throwable error) {
        LOG.error("A stream thread failed; replacing it in 1 s, its tasks process their input again from the last commit", error);
        try {
            Thread.sleep(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    }


    /** Where Kafka Streams keeps this application's state: state.dir/application.id. */
    private static java.nio.file.Path appStateDir(StreamsConfig streamsConfig) {
        return java.nio.file.Path.of(streamsConfig.getString(StreamsConfig.STATE_DIR_CONFIG),
                streamsConfig.getString(StreamsConfig.APPLICATION_ID_CONFIG));
    }

    /** The models as the gatherers see them, with when the input was last resumed (by the input gate). */
    private static dev.kafkareranker.gather.ScorerRouter gated(java.util.function.Supplier<ModelRegistry> models,
                                                               java.util.concurrent.atomic.AtomicLong resumedAt) {
        // Loaded before Kafka Streams starts (create() waits for them), so the stream threads never wait here.
        return new dev.kafkareranker.gather.ScorerRouter() {
            @Override
            public Scorer forModel(String model) {
                return models.get().forModel(model);
            }

            @Override
            public boolean accepting() {
                return models.get().accepting();
            }

            @Override
            public boolean hasRoom() {
                return models.get().hasRoom();
            }

            @Override
            public long inputResumedAtMs() {
                return resumedAt.longValue();
            }
        };
    }

    /** The served models, by name. */
    public ModelRegistry models() {
        return models;
    }

    /** Starts the admin endpoint (unless admin.port=-1) and Kafka Streams, and logs one line saying what runs where. */
    public void start() {
        if (adminSettings.port() >= 0) {
            try {
                admin = new AdminServer(adminSettings, metrics, models, streams::state, registry::unavailable);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("admin.port=" + adminSettings.port() + " on admin.bind.address=" + adminSettings.bindAddress()
                        + " cannot be bound: " + e.getMessage() + " (set admin.port to a free port, 0 for any, or -1 for none)", e);
            }
        }
        // Opens the stores left in state.dir first, to report their lag to the assignor: after a crash under
        // exactly-once, each store of each task, only for the first assignment to find them unclean, wipe them
        // and rebalance once more (Kafka Streams 4.3; README, "Restarts and recovery time").
        streams.start();
        // Two threads: a registry probe waiting out its timeout must not hold up the gate's looks.
        gateThreads = java.util.concurrent.Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "reranker-input-gate");
            t.setDaemon(true);
            return t;
        });
        // Every 2 s: an outage is seen within seconds, and a registry is not asked more than it can bear.
        gateThreads.scheduleWithFixedDelay(registry::probe, 0, 2_000, java.util.concurrent.TimeUnit.MILLISECONDS);
        gateThreads.scheduleWithFixedDelay(gate::look, InputGate.INTERVAL.toMillis(), InputGate.INTERVAL.toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        StringBuilder served = new StringBuilder();
        for (String name : models.names()) {
            Scorer scorer = models.slot(name).currentScorer();
            served.append(served.length() == 0 ? "" : ", ").append(name).append(' ').append(scorer.modelVersion())
                    .append(" on ").append(scorer instanceof dev.kafkareranker.inference.InferenceEngine e ? e.executionProvider() : "?")
                    .append(name.equals(models.defaultName()) ? " (default)" : "");
        }
        LOG.info("Reranker started: models [{}]; topics {} -> {}, dead letters {}; admin {}; traces {} ({})", served, topics.candidates(),
                topics.results(), topics.deadLetters(), admin == null ? "off" : "http://" + adminSettings.bindAddress() + ":" + admin.port(),
                tracing.describe(), Startup.jvmUp());
    }

    /** What stopped the app when an error no retry cures did (FatalErrors), in one line. */
    public java.util.Optional<String> fatalError() {
        return registry.fatalErrors().cause();
    }

    /** The admin endpoint's port, or -1 when it is off. */
    public int adminPort() {
        return admin == null ? -1 : admin.port();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** The default model's current scorer. */
    public Scorer scorer() {
        return models.slot(models.defaultName()).currentScorer();
    }

    public KafkaStreams streams() {
        return streams;
    }

    /**
     * Adds a listener for Kafka Streams' state changes. Kafka Streams takes one listener, which this app
     * holds (it logs the start-up's milestones), so callers add theirs here; before {@link #start()}.
     */
    public void addStateListener(KafkaStreams.StateListener listener) {
        startup.listeners.add(listener);
    }

    @Override
    public void close() {
        if (gateThreads != null) {
            gateThreads.shutdownNow();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (admin != null) {
            admin.close();
        }
        // A derived name leaves the group on a clean stop, so that an instance scaled in or stopped for good hands its
        // tasks over at once; a name set by hand stays (KIP-345's default), for restarts in place under that name.
        org.apache.kafka.streams.CloseOptions close = org.apache.kafka.streams.CloseOptions.timeout(Duration.ofSeconds(30))
                .withGroupMembershipOperation(derivedIdentity ? org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP
                        : org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP);
        if (streams.close(close) && streams.state() == KafkaStreams.State.NOT_RUNNING) {
            // Every task closed cleanly: the next start may keep their stores (CrashedState).
            CrashedState.markStoppedCleanly(appDir);
        }
        registry.close();
        metrics.close();
        models.close();
        if (ownsTracing) {
            // After the streams: spans the closing tasks ended are flushed too.
            tracing.close();
        }
    }
}
