package dev.kafkareranker.serde;

import org.apache.avro.Schema;

/** How a subject name is derived, with the names and results of Confluent's strategies. */
public enum SubjectNameStrategy {
    /** {@code <topic>-key} or {@code <topic>-value}: one schema lineage per topic (Confluent's default). */
    TopicNameStrategy,
    /** The record's full name: one lineage per record type, across topics. */
    RecordNameStrategy,
    /** {@code <topic>-<record full name>}. */
    TopicRecordNameStrategy;

    public String subject(String topic, boolean isKey, Schema schema) {
        return switch (this) {
            case TopicNameStrategy -> topic + (isKey ? "-key" : "-value");
            case RecordNameStrategy -> schema.getFullName();
            case TopicRecordNameStrategy -> topic + "-" + schema.getFullName();
        };
    }
}
