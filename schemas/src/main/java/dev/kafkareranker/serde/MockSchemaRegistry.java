package dev.kafkareranker.serde;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * In-process registries for {@code schema.registry.url=mock://SCOPE}, as Confluent's serde offers: every
 * serde configured with the same scope in one JVM shares one registry. For tests and the demo; a real
 * deployment points at a Schema Registry server.
 */
public final class MockSchemaRegistry {

    private static final Map<String, InMemory> SCOPES = new ConcurrentHashMap<>();

    private MockSchemaRegistry() {
    }

    /** The registry for {@code scope}, created on first use. */
    public static SchemaRegistryClient forScope(String scope) {
        return SCOPES.computeIfAbsent(scope, ignored -> new InMemory());
    }

    /** Forgets a scope, so the next test starts with an empty registry. */
    public static void drop(String scope) {
        SCOPES.remove(scope);
    }

    /** Follows the registry's rules: ids are global, an identical schema keeps its id across subjects. */
    private static final class InMemory implements SchemaRegistryClient {
        private final Map<Integer, Schema> byId = new HashMap<>();
        private final Map<Schema, Integer> idBySchema = new HashMap<>();
        private final Map<String, List<Integer>> versionsBySubject = new HashMap<>();
        private final Map<UUID, Integer> idByGuid = new HashMap<>();

        @Override
        public synchronized int register(String subject, Schema schema) {
            int id = idBySchema.computeIfAbsent(schema, s -> {
                int next = byId.size() + 1;
                byId.put(next, s);
                idByGuid.put(SchemaRegistryService.guidOf("AVRO", s.toString()), next);
                return next;
            });
            List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
            if (!versions.contains(id)) {
                versions.add(id);
            }
            return id;
        }

        @Override
        public synchronized int idOf(String subject, Schema schema) {
            Integer id = idBySchema.get(schema);
            List<Integer> versions = versionsBySubject.get(subject);
            if (versions == null) {
                throw new SchemaRegistryException("Subject '" + subject + "' not found.", 404, 40401);
            }
            if (id == null || !versions.contains(id)) {
                throw new SchemaRegistryException("Schema not found", 404, 40403);
            }
            return id;
        }

        @Override
        public synchronized RegisteredSchema latest(String subject) {
            List<Integer> versions = versionsBySubject.get(subject);
            if (versions == null || versions.isEmpty()) {
                throw new SchemaRegistryException("Subject '" + subject + "' not found.", 404, 40401);
            }
            int id = versions.get(versions.size() - 1);
            return new RegisteredSchema(id, versions.size(), byId.get(id));
        }

        @Override
        public synchronized Schema byId(int id) {
            Schema schema = byId.get(id);
            if (schema == null) {
                throw new SchemaRegistryException("Schema " + id + " not found", 404, 40403);
            }
            return schema;
        }

        @Override
        public synchronized Schema byGuid(UUID guid) {
            Integer id = idByGuid.get(guid);
            if (id == null) {
                throw new SchemaRegistryException("Schema " + guid + " not found", 404, 40403);
            }
            return byId.get(id);
        }

        @Override
        public synchronized UUID guidOf(int id) {
            return SchemaRegistryService.guidOf("AVRO", byId(id).toString());
        }
    }
}
