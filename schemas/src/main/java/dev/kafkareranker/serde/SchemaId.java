package dev.kafkareranker.serde;

import java.util.Objects;
import java.util.UUID;

/**
 * What names a record's writer schema: the registry's integer id (Confluent's wire format, magic byte 0) or
 * the schema's GUID (magic byte 1, Confluent Schema Registry 8.0 on), whichever the record carries. Exactly
 * one of the two is set.
 */
public record SchemaId(Integer id, UUID guid) {

    public SchemaId {
        if ((id == null) == (guid == null)) {
            throw new IllegalArgumentException("a schema id needs exactly one of id and guid: id=" + id + ", guid=" + guid);
        }
    }

    public static SchemaId ofId(int id) {
        return new SchemaId(id, null);
    }

    public static SchemaId ofGuid(UUID guid) {
        return new SchemaId(null, Objects.requireNonNull(guid, "guid"));
    }

    public boolean isGuid() {
        return guid != null;
    }

    /** "schema id 7" or "schema guid 0b4d...": how error messages name it. */
    @Override
    public String toString() {
        return isGuid() ? "schema guid " + guid : "schema id " + id;
    }
}
