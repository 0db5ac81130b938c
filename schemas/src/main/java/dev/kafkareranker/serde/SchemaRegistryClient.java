package dev.kafkareranker.serde;

import java.util.UUID;
import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry API that a serde needs. Implemented over REST
 * ({@link RestSchemaRegistryClient}) and in memory ({@link MockSchemaRegistry}, for {@code mock://} URLs).
 */
public interface SchemaRegistryClient {

    /** Registers {@code schema} under {@code subject} (or finds it already there) and returns its global id. */
    int register(String subject, Schema schema);

    /** Returns the id of {@code schema} if it is registered under {@code subject}; throws if it is not. */
    int idOf(String subject, Schema schema);

    /** Returns the latest schema registered under {@code subject}. */
    RegisteredSchema latest(String subject);

    /** Returns the schema with the global id {@code id}. */
    Schema byId(int id);

    /**
     * Returns the schema with {@code guid} ({@code GET /schemas/guids/{guid}}, Confluent Schema Registry 8.0 on):
     * what a record whose schema id is written as a GUID (in a header or its prefix) names.
     */
    Schema byGuid(UUID guid);

    /**
     * Returns the GUID of the schema with the global id {@code id}, as the registry gave it (with the id, on
     * register and lookup, or on {@code GET /schemas/ids/{id}}); throws a {@link org.apache.kafka.common.errors.SerializationException}
     * when the registry gives none (a registry older than Confluent's 8.0, or Apicurio's).
     */
    UUID guidOf(int id);

    /** A schema with the id and version the registry gave it. */
    record RegisteredSchema(int id, int version, Schema schema) {}
}
