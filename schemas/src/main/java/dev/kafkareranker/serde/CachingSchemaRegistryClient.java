package dev.kafkareranker.serde;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Caches both directions, as Confluent's client does: (subject, schema) to id for writers and id to
 * schema for readers. Ids never change meaning, so those entries live forever; "latest" can move,
 * so it is kept only for {@code latest.cache.ttl.sec}.
 */
final class CachingSchemaRegistryClient implements SchemaRegistryClient {

    private final SchemaRegistryClient delegate;
    private final Duration latestTtl;
    private final Clock clock;
    private final Map<SubjectSchema, Integer> registered = new ConcurrentHashMap<>();
    private final Map<SubjectSchema, Integer> looked = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
    private final Map<String, Timed> latest = new ConcurrentHashMap<>();

    CachingSchemaRegistryClient(SchemaRegistryClient delegate, Duration latestTtl, Clock clock) {
        this.delegate = delegate;
        this.latestTtl = latestTtl;
        this.clock = clock;
    }

    @Override
    public int register(String subject, Schema schema) {
        return registered.computeIfAbsent(new SubjectSchema(subject, schema), key -> remember(delegate.register(subject, schema), schema));
    }

    @Override
    public int idOf(String subject, Schema schema) {
        return looked.computeIfAbsent(new SubjectSchema(subject, schema), key -> remember(delegate.idOf(subject, schema), schema));
    }

    @Override
    public RegisteredSchema latest(String subject) {
        Timed cached = latest.get(subject);
        long now = clock.millis();
        if (cached != null && now - cached.fetchedAt < latestTtl.toMillis()) {
            return cached.schema;
        }
        RegisteredSchema fresh = delegate.latest(subject);
        remember(fresh.id(), fresh.schema());
        latest.put(subject, new Timed(fresh, now));
        return fresh;
    }

    @Override
    public Schema byId(int id) {
        return schemas.computeIfAbsent(id, delegate::byId);
    }

    private int remember(int id, Schema schema) {
        schemas.putIfAbsent(id, schema);
        return id;
    }

    private record SubjectSchema(String subject, Schema schema) {}

    private record Timed(RegisteredSchema schema, long fetchedAt) {}
}
