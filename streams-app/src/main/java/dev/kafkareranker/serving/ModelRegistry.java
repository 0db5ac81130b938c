package dev.kafkareranker.serving;

import dev.kafkareranker.gather.ScorerRouter;
import dev.kafkareranker.gather.UnknownModelException;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelOverrides;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models one pipeline serves, by name, each with its own engine, device and directory. A
 * candidate's {@code model} field picks one; none picks the default; an unknown name is an
 * {@link UnknownModelException} (the query becomes dead letters). Any model can be reloaded from its
 * directory without stopping the others.
 */
public final class ModelRegistry implements ScorerRouter, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    /**
     * One served model.
     *
     * @param name    the name candidates use in their {@code model} field and results report
     * @param dir     its model directory, re-read on every reload
     * @param options   its device, variant and batching
     * @param overrides the app's keys over its reranker.json (max length, long documents), applied on every load
     * @param firstStage the served model that scores its queries' candidates first ({@link CascadeScorer}), if any
     */
    public record Served(String name, Path dir, InferenceOptions options, ModelOverrides overrides, Optional<FirstStage> firstStage) {

        /** A model scoring every candidate of its queries itself. */
        public Served(String name, Path dir, InferenceOptions options, ModelOverrides overrides) {
            this(name, dir, options, overrides, Optional.empty());
        }

        /** A model whose directory alone decides its lengths and long-document handling. */
        public Served(String name, Path dir, InferenceOptions options) {
            this(name, dir, options, ModelOverrides.NONE);
        }
    }

    /**
     * A cheap model before an expensive one.
     *
     * @param model the served model that scores every candidate
     * @param topN  how many of a query's candidates, best by the first stage, the expensive model scores
     */
    public record FirstStage(String model, int topN) {}

    private final Map<String, ModelSlot> slots = new LinkedHashMap<>();
    /** The models with a first stage, by name: what {@link #forModel} gives for them. */
    private final Map<String, CascadeScorer> cascades = new LinkedHashMap<>();
    private final Map<String, Served> served = new LinkedHashMap<>();
    private final String defaultName;
    private final Function<Served, Scorer> loader;

    /** Opens every model with ONNX Runtime. */
    public static ModelRegistry open(List<Served> models, String defaultName) {
        return new ModelRegistry(models, defaultName, ModelRegistry::load);
    }

    /** One model's engine, from its directory read with the app's keys over its reranker.json. */
    public static Scorer load(Served model) {
        return Scorers.open(ModelDirectory.load(model.dir(), model.overrides()), model.options());
    }

    /** With a loader of the caller's, e.g. a test's scorer around a real engine. */
    public static ModelRegistry withLoader(List<Served> models, String defaultName, Function<Served, Scorer> loader) {
        return new ModelRegistry(models, defaultName, loader);
    }

    ModelRegistry(List<Served> models, String defaultName, Function<Served, Scorer> loader) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no model to serve: set model.dir, or models with model.NAME.dir");
        }
        this.loader = loader;
        this.defaultName = defaultName;
        try {
            for (Served m : models) {
                served.put(m.name(), m);
                slots.put(m.name(), new ModelSlot(m.name(), loader.apply(m)));
            }
        } catch (RuntimeException | Error e) {
            // An Error too (a LinkageError from a native library): the models already open are closed, not leaked.
            close();
            throw e;
        }
        if (!slots.containsKey(defaultName)) {
            close();
            throw new IllegalArgumentException("model.default '" + defaultName + "' is not one of the served models " + slots.keySet());
        }
        for (Served m : models) {
            m.firstStage().ifPresent(first -> {
                ModelSlot stage = slots.get(first.model());
                if (stage == null || first.model().equals(m.name()) || served.get(first.model()).firstStage().isPresent()) {
                    close();
                    throw new IllegalArgumentException("model " + m.name() + "'s first stage '" + first.model()
                            + "' must be another served model without a first stage of its own (served: " + slots.keySet() + ")");
                }
                cascades.put(m.name(), new CascadeScorer(stage, slots.get(m.name()), first.topN()));
                LOG.info("Model {} scores the top {} of each query's candidates, as ranked by its first stage {}", m.name(), first.topN(),
                        first.model());
            });
        }
    }

    /** The model's slot, or for a model with a first stage the cascade of the two slots. */
    @Override
    public Scorer forModel(String model) {
        String name = model == null ? defaultName : model;
        CascadeScorer cascade = cascades.get(name);
        if (cascade != null) {
            return cascade;
        }
        ModelSlot slot = slots.get(name);
        if (slot == null) {
            throw new UnknownModelException("model '" + model + "' is not served here (served: " + slots.keySet() + ")");
        }
        return slot;
    }

    /**
     * Reloads of one model run one at a time, so memory holds at most the serving version and one new
     * copy; a caller that arrives while one runs waits for it, and then for one more reload, unless one
     * that started after it arrived already succeeded (its files are at least as new): so concurrent
     * callers share loads instead of each loading a copy.
     */
    private static final class Reloads {
        final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        final java.util.concurrent.atomic.AtomicLong started = new java.util.concurrent.atomic.AtomicLong();
        volatile long lastSucceeded;
        volatile String lastVersion;
    }

    private final Map<String, Reloads> reloads = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Loads {@code name}'s directory again, warms it up and switches to it; returns the new version.
     * Concurrent calls for one model are serialized and coalesced (see {@link Reloads}).
     */
    public String reload(String name) {
        ModelSlot slot = slots.get(name);
        if (slot == null) {
            throw new UnknownModelException("model '" + name + "' is not served here (served: " + slots.keySet() + ")");
        }
        Reloads state = reloads.computeIfAbsent(name, n -> new Reloads());
        long arrived = state.started.get();
        state.lock.lock();
        try {
            if (state.lastSucceeded > arrived) {
                LOG.info("Model {}: a reload that started after this request already loaded version {}; not loading again",
                        name, state.lastVersion);
                return state.lastVersion;
            }
            long attempt = state.started.incrementAndGet();
            String version = load(name, slot);
            state.lastVersion = version;
            state.lastSucceeded = attempt;
            return version;
        } finally {
            state.lock.unlock();
        }
    }

    /** Reload calls of {@code name} waiting for the one in progress; for tests. */
    int reloadsWaiting(String name) {
        Reloads state = reloads.get(name);
        return state == null ? 0 : state.lock.getQueueLength();
    }

    private String load(String name, ModelSlot slot) {
        String previous = slot.modelVersion();
        String version = slot.swap(() -> loader.apply(served.get(name)));
        if (version.equals(previous)) {
            LOG.warn("Model {} reloaded with the same version '{}': results cannot tell the two apart; bump version in reranker.json",
                    name, version);
        }
        return version;
    }

    public Set<String> names() {
        return slots.keySet();
    }

    public String defaultName() {
        return defaultName;
    }

    public ModelSlot slot(String name) {
        return slots.get(name);
    }

    public Path directory(String name) {
        return served.get(name).dir();
    }

    /** Each model's health, by name: what readiness reports. */
    public Map<String, dev.kafkareranker.inference.ModelHealth> health() {
        Map<String, dev.kafkareranker.inference.ModelHealth> out = new LinkedHashMap<>();
        slots.forEach((name, slot) -> out.put(name, slot.health()));
        return out;
    }

    /** True when every served model takes work; see {@link Scorer#accepting()} for one model. */
    public boolean accepting() {
        return slots.values().stream().allMatch(ModelSlot::accepting);
    }

    /** True when every served model's queue has room; see {@link Scorer#hasRoom()}. */
    @Override
    public boolean hasRoom() {
        return slots.values().stream().allMatch(ModelSlot::hasRoom);
    }

    @Override
    public void close() {
        slots.values().forEach(ModelSlot::close);
    }
}
