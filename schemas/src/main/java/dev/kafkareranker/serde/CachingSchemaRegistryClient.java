package dev.kafkareranker.serde;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Caches both directions, as Confluent's client does: (subject, schema) to id for writers and id to
 * schema for readers. Ids never change meaning, so those entries live forever; "latest" can move,
 * so it is kept only for {@code latest.cache.ttl.sec}. GUIDs both ways (GUID to schema for readers, id to
 * GUID for writers of header ids) live forever too.
 */
final class CachingSchemaRegistryClient implements SchemaRegistryClient {

    private final SchemaRegistryClient delegate;
    private final Duration latestTtl;
    private final Clock clock;
    private final Map<SubjectSchema, Integer> registered = new ConcurrentHashMap<>();
    private final Map<SubjectSchema, Integer> looked = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
    private final Map<String, Timed> latest = new ConcurrentHashMap<>();
    private final Map<UUID, Schema> schemasByGuid = new ConcurrentHashMap<>();
    private final Map<Integer, UUID> guids = new ConcurrentHashMap<>();

    CachingSchemaRegistryClient(SchemaRegistryClient delegate, Duration latestTtl, Clock clock) {
        this.delegate = delegate;
        this.latestTtl = latestTtl;
        this.clock = clock;
    }

    // The registry is called outside the maps' locks (get, call, putIfAbsent rather than computeIfAbsent): a call
    // may take seconds while the client retries an outage, and must not block other threads' keys meanwhile. Two
    // threads may then both ask for the same key; the registry answers both alike. Failures are never cached.

    @Override
    public int register(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer cached = registered.get(key);
        if (cached != null) {
            return cached;
        }
        int id = remember(delegate.register(subject, schema), schema);
        registered.putIfAbsent(key, id);
        return id;
    }

    @Override
    public int idOf(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer cached = looked.get(key);
        if (cached != null) {
            return cached;
        }
        int id = remember(delegate.idOf(subject, schema), schema);
        looked.putIfAbsent(key, id);
        return id;
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
        Schema cached = schemas.get(id);
        if (cached != null) {
            return cached;
        }
        Schema fetched = delegate.byId(id);
        Schema raced = schemas.putIfAbsent(id, fetched);
        return raced != null ? raced : fetched;
    }

    /** GUIDs, like ids, never change meaning: cached for good, as Confluent's client caches them. */
    @Override
    public Schema byGuid(UUID guid) {
        Schema cached = schemasByGuid.get(guid);
        if (cached != null) {
            return cached;
        }
        Schema fetched = delegate.byGuid(guid);
        Schema raced = schemasByGuid.putIfAbsent(guid, fetched);
        return raced != null ? raced : fetched;
    }

    @Override
    public UUID guidOf(int id) {
        UUID cached = guids.get(id);
        if (cached != null) {
            return cached;
        }
        UUID fetched = delegate.guidOf(id);
        guids.putIfAbsent(id, fetched);
        return fetched;
    }

    private int remember(int id, Schema schema) {
        schemas.putIfAbsent(id, schema);
        return id;
    }

    private record SubjectSchema(String subject, Schema schema) {}

    private record Timed(RegisteredSchema schema, long fetchedAt) {}
}
