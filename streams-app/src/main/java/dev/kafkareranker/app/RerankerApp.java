package dev.kafkareranker.app;

import dev.kafkareranker.gather.CountingExceptionHandlers;
import dev.kafkareranker.gather.GatherSettings;
import dev.kafkareranker.gather.RerankTopology;
import dev.kafkareranker.gather.Topics;
import dev.kafkareranker.inference.InferenceEngine;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.serving.ModelRegistry;
import dev.kafkareranker.serving.ModelWatcher;
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
    private java.util.concurrent.ScheduledExecutorService gate;
    private final DependencyProbe registry;
    /** When the gate last resumed the input (wall clock ms), for the gatherers' max wait. */
    private final java.util.concurrent.atomic.AtomicLong resumedAt;

    private RerankerApp(ModelRegistry models, java.util.concurrent.atomic.AtomicLong resumedAt, ModelWatcher watcher, KafkaStreams streams,
                        Startup startup, java.nio.file.Path appDir, RerankerMetrics metrics, AdminServer.Settings adminSettings, Topics topics,
                        DependencyProbe registry) {
        this.startup = startup;
        this.appDir = appDir;
        this.topics = topics;
        this.registry = registry;
        this.models = models;
        this.resumedAt = resumedAt;
        this.watcher = watcher;
        this.streams = streams;
        this.metrics = metrics;
        this.adminSettings = adminSettings;
    }

    /**
     * Loads the models and builds the topology; nothing runs until {@link #start()}. The models load on a
     * thread of their own while Kafka Streams is set up (its clients: class loading, mostly), unless the
     * topology depends on where they run (gather.scoring.overlap=auto with a model on inference.device=auto).
     */
    public static RerankerApp create(RerankerConfig config) {
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
        return create(config, loading);
    }

    /**
     * With the models opened by {@code loader}: for tests whose model must fail on cue (a fault-injecting
     * fake around the real ONNX session), the one thing that cannot be made to happen for real here.
     */
    public static RerankerApp create(RerankerConfig config, java.util.function.Function<ModelRegistry.Served, Scorer> loader) {
        List<ModelRegistry.Served> served = config.servedModels();
        return create(config, java.util.concurrent.CompletableFuture.completedFuture(
                ModelRegistry.withLoader(served, config.defaultModel(served), loader)));
    }

    private static RerankerApp create(RerankerConfig config, java.util.concurrent.CompletableFuture<ModelRegistry> loading) {
        KafkaStreams streams = null;
        try {
            java.util.Optional<GatherSettings> fromConfig = gatherSettings(config, config.servedModels());
            GatherSettings gather = fromConfig.isPresent() ? fromConfig.get() : gatherSettings(config, loaded(loading));
            // The metrics need the loaded models; the topology only something to report to.
            ForwardingListener listener = new ForwardingListener();
            java.util.concurrent.atomic.AtomicLong resumedAt = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
            Topology topology = RerankTopology.build(config.topics(), AvroSerdes.create(config), gated(() -> loaded(loading), resumedAt), gather,
                    config.defaultModelByTopic(), listener);
            Properties streamsProps = config.streamsProperties();
            if (gather.overlapScoring() && !config.originals().containsKey(StreamsConfig.POLL_MS_CONFIG)) {
                // Scored queries are forwarded when the stream thread next loops, and an idle one blocks in poll
                // for poll.ms (10 ms here, RerankerConfig), which would sit on every result's latency. Not
                // lower when threads wait for scores: on a CPU, frequent wake-ups slow the model's own threads.
                streamsProps.put(StreamsConfig.POLL_MS_CONFIG, "5");
            }
            StreamsConfig streamsConfig = new StreamsConfig(streamsProps);
            java.nio.file.Path appDir = appStateDir(streamsConfig);
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
            listener.target = metrics;
            CountingExceptionHandlers.report(metrics);
            metrics.bind(streams);
            long watchMs = config.getLong(RerankerConfig.MODELS_WATCH_INTERVAL_MS);
            ModelWatcher watcher = watchMs > 0 ? new ModelWatcher(models, Duration.ofMillis(watchMs),
                    Duration.ofMillis(config.getLong(RerankerConfig.MODELS_WATCH_SETTLE_MS))) : null;
            return new RerankerApp(models, resumedAt, watcher, streams, startup, appDir, metrics, AdminServer.Settings.from(config), config.topics(),
                    dependencies);
        } catch (RuntimeException | Error e) {
            if (streams != null) {
                streams.close(Duration.ofSeconds(5));
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

    /** The models as the gatherers see them, with when the input was last resumed. */
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
            public long inputResumedAtMs() {
                return resumedAt.get();
            }
        };
    }

    /**
     * The gather settings when the configuration alone decides them: gather.scoring.overlap on or off, or
     * auto with a model on inference.device=cuda (it runs on the GPU or fails to load) or with every model
     * on cpu. Empty when only the loaded models can say (auto, and a model on inference.device=auto).
     */
    static java.util.Optional<GatherSettings> gatherSettings(RerankerConfig config, List<ModelRegistry.Served> served) {
        GatherSettings settings = config.gatherSettings();
        if (!"auto".equals(config.getString(RerankerConfig.GATHER_SCORING_OVERLAP))) {
            return java.util.Optional.of(settings);
        }
        boolean anyCuda = served.stream().anyMatch(m -> m.options().device().kind() == dev.kafkareranker.inference.Device.Kind.CUDA);
        boolean allCpu = served.stream().allMatch(m -> m.options().device().kind() == dev.kafkareranker.inference.Device.Kind.CPU);
        if (!anyCuda && !allCpu) {
            return java.util.Optional.empty();
        }
        logOverlap(anyCuda);
        return java.util.Optional.of(settings.withOverlapScoring(anyCuda));
    }

    private static void logOverlap(boolean anyOnGpu) {
        LOG.info("gather.scoring.overlap=auto: {}", anyOnGpu
                ? "on (a model runs on a GPU): stream threads go on gathering while queries are scored"
                : "off (all models run on the CPU): stream threads wait for each query's scores, leaving the cores to the model");
    }

    /** Resolves gather.scoring.overlap=auto from where the loaded models actually run. */
    static GatherSettings gatherSettings(RerankerConfig config, ModelRegistry models) {
        GatherSettings settings = config.gatherSettings();
        if (!"auto".equals(config.getString(RerankerConfig.GATHER_SCORING_OVERLAP))) {
            return settings;
        }
        boolean anyOnGpu = models.names().stream()
                .map(name -> models.slot(name).currentScorer())
                .anyMatch(s -> s instanceof InferenceEngine e && !e.executionProvider().startsWith("CPU"));
        logOverlap(anyOnGpu);
        return settings.withOverlapScoring(anyOnGpu);
    }

    /** The default model alone, for commands that score without Kafka. */
    static Scorer openScorer(RerankerConfig config) {
        List<ModelRegistry.Served> served = config.servedModels();
        String name = config.defaultModel(served);
        ModelRegistry.Served model = served.stream().filter(m -> m.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("model.default '" + name + "' is not one of models"));
        return Scorers.open(ModelDirectory.load(model.dir()), model.options());
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
        // Two threads: a registry probe waiting out its timeout must not hold up the model gate.
        gate = java.util.concurrent.Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "reranker-input-gate");
            t.setDaemon(true);
            return t;
        });
        // Every 2 s: an outage is seen within seconds, and a registry is not asked more than it can bear.
        gate.scheduleWithFixedDelay(registry::probe, 0, 2_000, java.util.concurrent.TimeUnit.MILLISECONDS);
        gate.scheduleWithFixedDelay(this::gateInput, GATE_INTERVAL.toMillis(), GATE_INTERVAL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        StringBuilder served = new StringBuilder();
        for (String name : models.names()) {
            Scorer scorer = models.slot(name).currentScorer();
            served.append(served.length() == 0 ? "" : ", ").append(name).append(' ').append(scorer.modelVersion())
                    .append(" on ").append(scorer instanceof dev.kafkareranker.inference.InferenceEngine e ? e.executionProvider() : "?")
                    .append(name.equals(models.defaultName()) ? " (default)" : "");
        }
        LOG.info("Reranker started: models [{}]; topics {} -> {}, dead letters {}; admin {} ({})", served, topics.candidates(), topics.results(),
                topics.deadLetters(), admin == null ? "off" : "http://" + adminSettings.bindAddress() + ":" + admin.port(), Startup.jvmUp());
    }

    /**
     * How often the input gate asks the models whether they take work: a model that stopped (its breaker
     * open) costs at most this long of input before the pipeline holds it back.
     */
    static final Duration GATE_INTERVAL = Duration.ofMillis(200);

    /**
     * Holds the input back while a model refuses work, and lets it go once every model takes work again.
     * Without it, every query completed while a model's breaker is open would fail its task (the engine
     * refuses, which is not the query's fault), the input would be processed again, and so on: a loop of
     * task failures at input rate. Paused, Kafka Streams neither processes nor punctuates (the max wait
     * counts the record timestamps of the input, not the pause); queries already handed to the model fail
     * their task once and are scored again after the resume, so nothing is dead-lettered for the model's
     * fault. Paused and resumed as a whole: any model down holds every input, as queries of all models
     * share the stream threads' tasks.
     */
    void gateInput() {
        try {
            boolean accepting = models.accepting();
            if (!accepting && !streams.isPaused()) {
                LOG.warn("A model refuses work ({}): pausing input processing until it accepts again", models.health());
                streams.pause();
            } else if (accepting && streams.isPaused()) {
                LOG.info("Every model accepts work again: resuming input processing");
                resumedAt.set(System.currentTimeMillis());
                streams.resume();
            }
        } catch (RuntimeException e) {
            // The gate must keep running: a failed look is tried again at the next interval.
            LOG.warn("Input gate: could not check or change the pause state", e);
        }
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
        if (gate != null) {
            gate.shutdownNow();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (streams.close(Duration.ofSeconds(30)) && streams.state() == KafkaStreams.State.NOT_RUNNING) {
            // Every task closed cleanly: the next start may keep their stores (CrashedState).
            CrashedState.markStoppedCleanly(appDir);
        }
        registry.close();
        metrics.close();
        models.close();
    }
}
