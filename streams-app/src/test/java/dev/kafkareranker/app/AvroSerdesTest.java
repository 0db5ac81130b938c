package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.gather.RerankTopology;
import dev.kafkareranker.serde.MockSchemaRegistry;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** The app's serdes each read the class their topic or store carries, whatever the writer's schema names. */
class AvroSerdesTest {

    @Test
    void aRecordOfAnotherGeneratedClassOnTheCandidatesTopicIsASerializationException() {
        String scope = "serdes-" + UUID.randomUUID();
        try {
            RerankTopology.Serdes3 serdes = AvroSerdes.create(new RerankerConfig(Map.of(
                    "bootstrap.servers", "unused:9092", "schema.registry.url", "mock://" + scope)));
            QueryState state = QueryState.newBuilder().setQueryId("q").setQuery("what").setFirstSeenMillis(0L).setReceived(1).build();
            byte[] bytes = serdes.queries().serializer().serialize("candidates", state);

            // Before, the writer's name picked the class: a QueryState came out and failed later as a ClassCastException.
            SerializationException e = assertThrows(SerializationException.class,
                    () -> serdes.candidates().deserializer().deserialize("candidates", bytes));
            assertTrue(e.getMessage().contains("cannot be read with reader schema dev.kafkareranker.avro.RetrievalCandidate"), e.getMessage());
            assertEquals(state, serdes.queries().deserializer().deserialize("candidates", bytes));
        } finally {
            MockSchemaRegistry.drop(scope);
        }
    }

    @Test
    void theAppsOwnRecordsCarryPrefixIdsEvenWhenHeaderIdsAreConfigured() {
        String scope = "serdes-" + UUID.randomUUID();
        try {
            RerankTopology.Serdes3 serdes = AvroSerdes.create(new RerankerConfig(Map.of(
                    "bootstrap.servers", "unused:9092", "schema.registry.url", "mock://" + scope,
                    "value.schema.id.serializer", "io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer")));
            QueryState state = QueryState.newBuilder().setQueryId("q").setQuery("what").setFirstSeenMillis(0L).setReceived(1).build();

            // The app serializes its records without headers (it measures them before forwarding): a prefix id, no failure.
            byte[] bytes = serdes.queries().serializer().serialize("results", state);

            assertEquals(dev.kafkareranker.serde.WireFormat.MAGIC_BYTE, bytes[0]);
            assertEquals(state, serdes.queries().deserializer().deserialize("results", bytes));
        } finally {
            MockSchemaRegistry.drop(scope);
        }
    }
}
