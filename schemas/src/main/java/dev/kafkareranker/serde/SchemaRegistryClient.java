package dev.kafkareranker.serde;

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

    /** A schema with the id and version the registry gave it. */
    record RegisteredSchema(int id, int version, Schema schema) {}
}
