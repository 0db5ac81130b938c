package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The schema the serde registers is the {@code .avsc} as written, not the generated class's {@code SCHEMA$}
 * with Avro's Java properties, so any producer registering the file (Confluent's Python client, for one) and
 * this app get one id, and a lookup of the plain file finds it.
 */
class ContractAsWrittenTest {

    private static final String TOPIC = "candidates";

    private static int headerId(byte[] bytes) {
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    @Test
    void everyContractIsRegisteredExactlyAsItsAvscFile() {
        assertEquals(TestRecords.avsc("RetrievalCandidate"), AvroSerializer.asWritten(RetrievalCandidate.getClassSchema()));
        assertEquals(TestRecords.avsc("RankedResults"), AvroSerializer.asWritten(RankedResults.getClassSchema()));
        assertEquals(TestRecords.avsc("QueryState"), AvroSerializer.asWritten(QueryState.getClassSchema()));
        assertTrue(RetrievalCandidate.getClassSchema().toString().contains("avro.java.string"),
                "the generated SCHEMA$ carries the Java property this strips; if not, this test no longer tests anything");
    }

    @Test
    void aSchemaRegisteredFromThePlainAvscIsTheOneTheAppWritesWith() throws IOException {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start()) {
            // As another language's client registers it: the file's own text.
            int id = fake.registerDirectly(TOPIC + "-value", TestRecords.avscText("RetrievalCandidate"));

            byte[] lookedUp = SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url(), SerdeConfig.AUTO_REGISTER_SCHEMAS, false)
                    .serializer().serialize(TOPIC, TestRecords.fullCandidate());
            byte[] registered = SpecificAvroSerdeTest.<RetrievalCandidate>serde(fake.url())
                    .serializer().serialize(TOPIC, TestRecords.fullCandidate());

            assertEquals(id, headerId(lookedUp), "the lookup of the app's schema finds the .avsc's id");
            assertEquals(id, headerId(registered), "registering again keeps the .avsc's id");
            assertEquals(1, fake.subjects().size());
            assertEquals(id, new TestRegistryClient(fake).latest(TOPIC + "-value").id(), "no second version");
        }
    }

    @Test
    void aLookupOfThePlainAvscFindsWhatTheAppRegistered() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.HTTP)) {
            byte[] bytes = SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url())
                    .serializer().serialize(TOPIC, TestRecords.fullCandidate());

            Schema plain = TestRecords.avsc("RetrievalCandidate");
            assertEquals(headerId(bytes), registry.client().idOf(TOPIC + "-value", plain));
            Schema stored = registry.client().byId(headerId(bytes));
            assertFalse(stored.toString().contains("avro.java.string"), stored.toString());
            assertEquals(TestRecords.fullCandidate(), SpecificAvroSerdeTest.<RetrievalCandidate>serde(registry.url())
                    .deserializer().deserialize(TOPIC, bytes), "the Java string type comes from the generated class");
        }
    }

    /** A client on the fake with no cache, for asserting what the registry holds. */
    private static final class TestRegistryClient {
        private final SchemaRegistryClient client;

        TestRegistryClient(FakeSchemaRegistryServer fake) {
            this.client = new RestSchemaRegistryClient(java.util.List.of(java.net.URI.create(fake.url())),
                    java.util.Optional.empty(), null, java.time.Duration.ofSeconds(5));
        }

        SchemaRegistryClient.RegisteredSchema latest(String subject) {
            return client.latest(subject);
        }
    }
}
