package dev.kafkareranker.gather;

import org.apache.kafka.common.header.Headers;

/**
 * A record for the results topic ({@code result}) or the dead-letter topic, already serialized (the
 * gatherer checks a result's size and serializer before its store changes); the topology routes the two by type.
 */
record Outcome(boolean result, byte[] key, byte[] value, long timestamp, Headers headers) {}
