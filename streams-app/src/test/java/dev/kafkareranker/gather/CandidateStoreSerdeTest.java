package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.SourceRecord;
import dev.kafkareranker.avro.internal.StoredCandidate;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** The candidate store's encoding, and the entries earlier versions stored (a bare RetrievalCandidate) read after the upgrade. */
class CandidateStoreSerdeTest {

    private static final String CHANGELOG = "app-rerank-candidates-changelog";

    static RetrievalCandidate candidate() {
        return RetrievalCandidate.newBuilder().setQueryId("q1").setQuery("what").setDocId("a").setText("passage")
                .setCandidateCount(2).setMetadata(Map.of("k", "v")).build();
    }

    @Test
    void aStoredCandidateWithItsRecordAsProducedReadsBackWhole() {
        SourceRecord source = SourceRecord.newBuilder().setTopic("candidates").setPartition(3).setOffset(42).setTimestamp(1_000)
                .setKey(null).setKeySize(0).setValue(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 7, 1, 2})).setValueSize(7)
                .setHeaders(List.of()).build();
        StoredCandidate stored = new StoredCandidate(candidate(), source);
        CandidateStoreSerde serde = new CandidateStoreSerde(null);
        byte[] bytes = serde.serialize(CHANGELOG, stored);
        assertEquals((byte) 0xC3, bytes[0], "single-object encoding, no registry");
        assertEquals(stored, serde.deserialize(CHANGELOG, bytes));
        assertNull(serde.deserialize(CHANGELOG, serde.serialize(CHANGELOG, stored)).getSource().getKey(), "a null key stays null");
    }

    @Test
    void anEntryAnEarlierVersionStoredInTheSingleObjectEncodingReadsAsACandidateWithoutItsRecord() {
        byte[] earlier = new StoreSerde<>(RetrievalCandidate.class, null).serialize(CHANGELOG, candidate());
        assertFalse(new StoreSerde<>(StoredCandidate.class, null).writes(earlier), "a RetrievalCandidate's fingerprint, not a StoredCandidate's");
        StoredCandidate read = new CandidateStoreSerde(null).deserialize(CHANGELOG, earlier);
        assertEquals(candidate(), read.getCandidate());
        assertNull(read.getSource(), "no record as produced: its dead letter is re-encoded");
    }

    @Test
    void anEntryAnEarlierVersionStoredInTheRegistryWireFormatReadsAsACandidateWithoutItsRecord() {
        SpecificAvroSerde<RetrievalCandidate> registry = new SpecificAvroSerde<>();
        registry.configure(Map.of("schema.registry.url", "mock://candidate-store-legacy"), false);
        try {
            byte[] earlier = registry.serializer().serialize(CHANGELOG, candidate());
            assertEquals(0, earlier[0], "magic byte 0 and a schema id");
            StoredCandidate read = new CandidateStoreSerde(registry.deserializer()).deserialize(CHANGELOG, earlier);
            assertEquals(candidate(), read.getCandidate());
            assertNull(read.getSource());
        } finally {
            MockSchemaRegistry.drop("candidate-store-legacy");
        }
    }

    @Test
    void refusesBytesOfNoKnownEncodingSayingWhatItExpected() {
        SerializationException e = assertThrows(SerializationException.class,
                () -> new CandidateStoreSerde(null).deserialize(CHANGELOG, "garbage".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("StoredCandidate") && e.getMessage().contains("RetrievalCandidate"), e.getMessage());
    }

    @Test
    void theStoreKeepsNoMoreOfARecordThanADeadLetterCanCarry() {
        int maxBytes = 8_192;
        org.apache.kafka.common.header.internals.RecordHeaders headers = new org.apache.kafka.common.header.internals.RecordHeaders();
        headers.add("trace-id", "t".getBytes(StandardCharsets.UTF_8));
        headers.add("huge", new byte[maxBytes]);
        byte[] value = new byte[100_000];
        value[0] = 42;
        SourceRecord kept = Origin.source(headers, "candidates", 1, 9, 5L, "key".getBytes(StandardCharsets.UTF_8), value, maxBytes);
        assertTrue(kept.getValue().remaining() < maxBytes, "cut: " + kept.getValue().remaining());
        assertEquals(100_000, kept.getValueSize(), "the size as produced, for the dead letter's truncated header");
        assertEquals(42, kept.getValue().get(0), "the first bytes");
        assertEquals(List.of("trace-id"), kept.getHeaders().stream().map(h -> h.getKey()).toList(), "a header no dead letter could carry is dropped");
        assertArrayEquals("key".getBytes(StandardCharsets.UTF_8), DeadLetters.array(kept.getKey()));
    }
}
