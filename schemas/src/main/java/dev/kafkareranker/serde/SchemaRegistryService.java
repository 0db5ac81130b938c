package dev.kafkareranker.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.avro.Schema;

/**
 * An in-memory Schema Registry that answers the subset of Confluent's REST API this project's serde and
 * Confluent's own clients use for Avro, with the documented status codes, {@code error_code}s and messages.
 * It is not Confluent's registry: no compatibility checks, no modes, no contexts, no schema references, and
 * nothing survives the process. {@link DevSchemaRegistryServer} serves it over HTTP for a development stack;
 * tests serve it with faults of their own.
 *
 * <ul>
 *   <li>{@code POST /subjects/{subject}/versions {"schema": "..."}} → {@code {"id": N, "guid": "..."}}</li>
 *   <li>{@code POST /subjects/{subject}} (lookup) → {@code {"subject","id","guid","version","schema"}}, or 404 with
 *       40401 (subject not found) / 40403 (schema not found)</li>
 *   <li>{@code GET /subjects/{subject}/versions/latest} → {@code {"subject","id","guid","version","schema"}} or 404 40401</li>
 *   <li>{@code GET /schemas/ids/{id}} → {@code {"schema": "...", "guid": "..."}} or 404 40403</li>
 *   <li>{@code GET /schemas/guids/{guid}} → {@code {"schema": "...", "guid": "..."}} or 404 40403 (Confluent 8.0's
 *       endpoint, for records whose schema id is a GUID)</li>
 *   <li>{@code GET /subjects} → the subjects, as a JSON array</li>
 *   <li>{@code "schemaType"} other than AVRO is stored unchecked and echoed back, as a registry shared with
 *       Protobuf or JSON Schema producers would</li>
 *   <li>422 42201 for a body that is not a valid Avro schema</li>
 * </ul>
 *
 * Ids are global and an identical schema keeps its id across subjects, as in the real registry. A schema's GUID
 * is derived from its content ({@link #guidOf}), so the same schema has the same GUID in every registry
 * of this kind, as Confluent's GUIDs identify content across contexts. Thread-safe.
 */
public final class SchemaRegistryService {

    /** The content type of every answer, as the real registry sends it. */
    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** An HTTP status and its JSON body. */
    public record Reply(int status, JsonNode body) {}

    // Guarded by "this".
    private final Map<Integer, Stored> schemaById = new HashMap<>();
    private final Map<Object, Integer> idByKey = new HashMap<>();
    private final Map<String, List<Integer>> versionsBySubject = new HashMap<>();
    private final Map<UUID, Integer> idByGuid = new HashMap<>();
    private int nextId;

    /** An empty registry whose first id is {@code firstId}. */
    public SchemaRegistryService(int firstId) {
        this.nextId = firstId;
    }

    /** Answers one request: {@code path} as {@link #segments} splits a raw path. */
    public Reply handle(String method, List<String> path, byte[] body) {
        try {
            return route(method, path, body);
        } catch (RuntimeException e) {
            return new Reply(500, error(50001, "Error in the backend data store: " + e));
        }
    }

    private Reply route(String method, List<String> path, byte[] body) {
        int n = path.size();
        if (n == 1 && path.get(0).equals("subjects") && method.equals("GET")) {
            return subjectsRequest();
        }
        if (n == 3 && path.get(0).equals("subjects") && path.get(2).equals("versions") && method.equals("POST")) {
            return registerRequest(path.get(1), body);
        }
        if (n == 2 && path.get(0).equals("subjects") && method.equals("POST")) {
            return lookupRequest(path.get(1), body);
        }
        if (n == 4 && path.get(0).equals("subjects") && path.get(2).equals("versions")
                && path.get(3).equals("latest") && method.equals("GET")) {
            return latestRequest(path.get(1));
        }
        if (n == 3 && path.get(0).equals("schemas") && path.get(1).equals("ids") && method.equals("GET")) {
            return byIdRequest(path.get(2));
        }
        if (n == 3 && path.get(0).equals("schemas") && path.get(1).equals("guids") && method.equals("GET")) {
            return byGuidRequest(path.get(2));
        }
        return new Reply(404, error(404, "HTTP 404 Not Found"));
    }

    /** Registers an Avro schema directly, as another producer would have. */
    public synchronized int registerDirectly(String subject, String schemaText) {
        return store(subject, new Stored("AVRO", schemaText, new Schema.Parser().parse(schemaText)));
    }

    /** Registers a schema of another type ({@code PROTOBUF}, {@code JSON}) directly; its text is not checked. */
    public synchronized int registerDirectly(String subject, String schemaType, String schemaText) {
        return store(subject, new Stored(schemaType, schemaText, null));
    }

    /** The subjects registered so far. */
    public synchronized List<String> subjects() {
        return List.copyOf(versionsBySubject.keySet());
    }

    private synchronized Reply subjectsRequest() {
        var array = JSON.createArrayNode();
        versionsBySubject.keySet().stream().sorted().forEach(array::add);
        return new Reply(200, array);
    }

    private synchronized Reply registerRequest(String subject, byte[] body) {
        Optional<Stored> parsed = parseSchemaBody(body);
        if (parsed.isEmpty()) {
            return invalidSchema();
        }
        int id = store(subject, parsed.get());
        return new Reply(200, JSON.createObjectNode().put("id", id).put("guid", schemaById.get(id).guid().toString()));
    }

    private synchronized Reply lookupRequest(String subject, byte[] body) {
        Optional<Stored> parsed = parseSchemaBody(body);
        if (parsed.isEmpty()) {
            return invalidSchema();
        }
        List<Integer> versions = versionsBySubject.get(subject);
        if (versions == null) {
            return subjectNotFound(subject);
        }
        Integer id = idByKey.get(parsed.get().key());
        if (id == null || !versions.contains(id)) {
            return new Reply(404, error(40403, "Schema not found"));
        }
        return new Reply(200, versionNode(subject, id, versions.indexOf(id) + 1));
    }

    private synchronized Reply latestRequest(String subject) {
        List<Integer> versions = versionsBySubject.get(subject);
        if (versions == null || versions.isEmpty()) {
            return subjectNotFound(subject);
        }
        return new Reply(200, versionNode(subject, versions.get(versions.size() - 1), versions.size()));
    }

    private synchronized Reply byIdRequest(String idText) {
        int id;
        try {
            id = Integer.parseInt(idText);
        } catch (NumberFormatException e) {
            return new Reply(404, error(404, "HTTP 404 Not Found"));
        }
        Stored stored = schemaById.get(id);
        if (stored == null) {
            return new Reply(404, error(40403, "Schema " + id + " not found"));
        }
        return new Reply(200, withType(JSON.createObjectNode(), stored).put("schema", stored.text).put("guid", stored.guid().toString()));
    }

    private synchronized Reply byGuidRequest(String guidText) {
        UUID guid;
        try {
            guid = UUID.fromString(guidText);
        } catch (IllegalArgumentException e) {
            return new Reply(404, error(40403, "Schema " + guidText + " not found"));
        }
        Integer id = idByGuid.get(guid);
        if (id == null) {
            return new Reply(404, error(40403, "Schema " + guid + " not found"));
        }
        Stored stored = schemaById.get(id);
        return new Reply(200, withType(JSON.createObjectNode(), stored).put("schema", stored.text).put("guid", guid.toString()));
    }

    /** The GUID this registry gives a schema of {@code type} whose text (for Avro, as Avro prints it) is {@code text}. */
    public static UUID guidOf(String type, String text) {
        // A name-based (MD5) UUID of the content: stable across restarts and registries of this kind.
        return UUID.nameUUIDFromBytes((type + "\n" + text).getBytes(StandardCharsets.UTF_8));
    }

    /** The GUID of the schema with {@code id}, or null when there is none. */
    public synchronized UUID guidOfId(int id) {
        Stored stored = schemaById.get(id);
        return stored == null ? null : stored.guid();
    }

    private ObjectNode versionNode(String subject, int id, int version) {
        Stored stored = schemaById.get(id);
        ObjectNode node = JSON.createObjectNode()
                .put("subject", subject)
                .put("id", id)
                .put("guid", stored.guid().toString())
                .put("version", version);
        return withType(node, stored).put("schema", stored.text);
    }

    /** Like the real registry, {@code schemaType} is left out for Avro, the default. */
    private static ObjectNode withType(ObjectNode node, Stored stored) {
        return stored.type.equals("AVRO") ? node : node.put("schemaType", stored.type);
    }

    private int store(String subject, Stored stored) {
        Integer id = idByKey.get(stored.key());
        if (id == null) {
            id = nextId++;
            idByKey.put(stored.key(), id);
            schemaById.put(id, stored);
            idByGuid.putIfAbsent(stored.guid(), id);
        }
        List<Integer> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(id)) {
            versions.add(id);
        }
        return id;
    }

    /**
     * A registered schema. Avro schemas are parsed, and an identical Avro schema (by {@link Schema#equals}) keeps
     * its id; other types are kept as text and matched by text.
     */
    private record Stored(String type, String text, Schema avro) {
        Object key() {
            return avro != null ? avro : type + ":" + text;
        }

        UUID guid() {
            return guidOf(type, avro != null ? avro.toString() : text);
        }
    }

    private static Optional<Stored> parseSchemaBody(byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            JsonNode schemaNode = node == null ? null : node.get("schema");
            if (schemaNode == null || !schemaNode.isTextual()) {
                return Optional.empty();
            }
            String text = schemaNode.asText();
            String type = node.path("schemaType").asText("AVRO");
            if (!type.equals("AVRO")) {
                return Optional.of(new Stored(type, text, null));
            }
            return Optional.of(new Stored(type, text, new Schema.Parser().parse(text)));
        } catch (IOException | RuntimeException e) {
            // Not JSON, or not Avro: SchemaParseException, and other runtime exceptions for bad defaults.
            return Optional.empty();
        }
    }

    private static Reply invalidSchema() {
        return new Reply(422, error(42201, "Invalid schema"));
    }

    private static Reply subjectNotFound(String subject) {
        return new Reply(404, error(40401, "Subject '" + subject + "' not found."));
    }

    /** The registry's error body: {@code {"error_code": code, "message": message}}. */
    public static ObjectNode error(int code, String message) {
        return JSON.createObjectNode().put("error_code", code).put("message", message);
    }

    /** The decoded segments of a raw (percent-encoded) path: {@code /subjects/a%2Fb/versions} → [subjects, a/b, versions]. */
    public static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String segment : rawPath.split("/")) {
            if (!segment.isEmpty()) {
                // Path segments: '+' is a literal plus, only %XX is an escape.
                out.add(URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** Sends {@code reply} with the registry's content type. */
    public static void send(HttpExchange exchange, Reply reply) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(reply.body());
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(reply.status(), bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
