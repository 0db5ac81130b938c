package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class StoreSerdeTest {

    private static QueryState state() {
        return QueryState.newBuilder().setQueryId("q\u00001").setQuery("what").setFirstSeenMillis(42).setReceived(3).setExpected(8).build();
    }

    @Test
    void writesAvroSingleObjectEncodingThatReadsBackWithoutAnyRegistry() {
        StoreSerde<QueryState> serde = new StoreSerde<>(QueryState.class, null);
        byte[] bytes = serde.serialize("rerank-queries-changelog", state());
        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals(0x01, bytes[1]);
        assertEquals(state(), serde.deserialize("rerank-queries-changelog", bytes));
    }

    @Test
    void readsAChangelogRecordAnEarlierVersionWroteInTheRegistryWireFormat() {
        SpecificAvroSerde<QueryState> registry = new SpecificAvroSerde<>();
        registry.configure(Map.of("schema.registry.url", "mock://store-serde-legacy"), false);
        try {
            byte[] legacy = registry.serializer().serialize("app-rerank-queries-changelog", state());
            assertEquals(0, legacy[0], "magic byte 0 and a schema id");
            StoreSerde<QueryState> serde = new StoreSerde<>(QueryState.class, registry.deserializer());
            assertEquals(state(), serde.deserialize("app-rerank-queries-changelog", legacy));
        } finally {
            MockSchemaRegistry.drop("store-serde-legacy");
        }
    }

    @Test
    void refusesBytesOfNeitherEncodingSayingWhichItExpected() {
        StoreSerde<QueryState> serde = new StoreSerde<>(QueryState.class, null);
        SerializationException e = assertThrows(SerializationException.class, () -> serde.deserialize("t", new byte[] {7, 1, 2}));
        assertTrue(e.getMessage().contains("0x07") && e.getMessage().contains("C3 01"), e.getMessage());
    }
}
