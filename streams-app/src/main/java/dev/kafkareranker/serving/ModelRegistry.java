package dev.kafkareranker.serving;

import dev.kafkareranker.gather.ScorerRouter;
import dev.kafkareranker.gather.UnknownModelException;
import dev.kafkareranker.inference.InferenceOptions;
import dev.kafkareranker.inference.Scorer;
import dev.kafkareranker.inference.Scorers;
import dev.kafkareranker.model.ModelDirectory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
     * @param options its device, variant and batching
     */
    public record Served(String name, Path dir, InferenceOptions options) {}

    private final Map<String, ModelSlot> slots = new LinkedHashMap<>();
    private final Map<String, Served> served = new LinkedHashMap<>();
    private final String defaultName;
    private final Function<Served, Scorer> loader;

    /** Opens every model with ONNX Runtime. */
    public static ModelRegistry open(List<Served> models, String defaultName) {
        return new ModelRegistry(models, defaultName, m -> Scorers.open(ModelDirectory.load(m.dir()), m.options()));
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
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        if (!slots.containsKey(defaultName)) {
            close();
            throw new IllegalArgumentException("model.default '" + defaultName + "' is not one of the served models " + slots.keySet());
        }
    }

    @Override
    public Scorer forModel(String model) {
        if (model == null) {
            return slots.get(defaultName);
        }
        ModelSlot slot = slots.get(model);
        if (slot == null) {
            throw new UnknownModelException("model '" + model + "' is not served here (served: " + slots.keySet() + ")");
        }
        return slot;
    }

    /** Loads {@code name}'s directory again, warms it up and switches to it; returns the new version. */
    public String reload(String name) {
        ModelSlot slot = slots.get(name);
        if (slot == null) {
            throw new UnknownModelException("model '" + name + "' is not served here (served: " + slots.keySet() + ")");
        }
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

    @Override
    public void close() {
        slots.values().forEach(ModelSlot::close);
    }
}
