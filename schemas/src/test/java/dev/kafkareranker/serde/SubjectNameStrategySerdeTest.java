package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which subject the serializer registers under, for each of Confluent's strategies and their class names. */
class SubjectNameStrategySerdeTest {

    private static final String TOPIC = "mixed";

    private static <T extends SpecificRecord> int writeAndReadBack(TestRegistry registry, boolean isKey, String strategy,
                                                                  T record) {
        SpecificAvroSerde<T> serde = SpecificAvroSerdeTest.configured(registry.url(), isKey,
                isKey ? SerdeConfig.KEY_SUBJECT_NAME_STRATEGY : SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, strategy);
        byte[] bytes = serde.serializer().serialize(TOPIC, record);
        assertEquals(record, serde.deserializer().deserialize(TOPIC, bytes));
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    @ParameterizedTest(name = "{0} {1} → {2}")
    @CsvSource({
            "false, TopicNameStrategy,                                              mixed-value",
            "true,  TopicNameStrategy,                                              mixed-key",
            "false, RecordNameStrategy,                                             dev.kafkareranker.avro.RetrievalCandidate",
            "true,  RecordNameStrategy,                                             dev.kafkareranker.avro.RetrievalCandidate",
            "false, io.confluent.kafka.serializers.subject.RecordNameStrategy,      dev.kafkareranker.avro.RetrievalCandidate",
            "false, TopicRecordNameStrategy,                                        mixed-dev.kafkareranker.avro.RetrievalCandidate",
            "true,  io.confluent.kafka.serializers.subject.TopicRecordNameStrategy, mixed-dev.kafkareranker.avro.RetrievalCandidate",
            "false, io.confluent.kafka.serializers.subject.TopicNameStrategy,       mixed-value",
    })
    void registersUnderTheStrategysSubject(boolean isKey, String strategy, String subject) throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.HTTP)) {
            int id = writeAndReadBack(registry, isKey, strategy, TestRecords.fullCandidate());

            assertEquals(List.of(subject), registry.server().subjects());
            assertEquals(id, registry.client().latest(subject).id());
        }
    }

    @Test
    void recordNameStrategyOnMockRegistryUsesTheFullName() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.MOCK)) {
            int id = writeAndReadBack(registry, false, "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                    TestRecords.fullCandidate());
            assertEquals(id, registry.client().latest(TestRecords.CANDIDATE_NAME).id());
            assertThrows(SchemaRegistryException.class, () -> registry.client().latest(TOPIC + "-value"));
        }
    }

    @Test
    void recordNameStrategiesLetTwoRecordTypesShareATopic() throws IOException {
        try (TestRegistry registry = TestRegistry.open(TestRegistry.Kind.HTTP)) {
            int candidate = writeAndReadBack(registry, false, "TopicRecordNameStrategy", TestRecords.fullCandidate());
            int results = writeAndReadBack(registry, false, "TopicRecordNameStrategy", TestRecords.rankedResults());

            assertEquals(candidate, registry.client().latest("mixed-dev.kafkareranker.avro.RetrievalCandidate").id());
            assertEquals(results, registry.client().latest("mixed-dev.kafkareranker.avro.RankedResults").id());
            assertEquals(TestRecords.avsc("RetrievalCandidate"), registry.client().byId(candidate));
            assertEquals(TestRecords.avsc("RankedResults"), registry.client().byId(results));
        }
    }

    @Test
    void unknownStrategyFailsAtConfigure() {
        SpecificAvroSerde<RetrievalCandidate> serde = new SpecificAvroSerde<>();
        ConfigException e = assertThrows(ConfigException.class, () -> serde.configure(Map.of(
                SerdeConfig.SCHEMA_REGISTRY_URL, "mock://unused",
                SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "io.confluent.kafka.serializers.subject.NoSuchStrategy"), false));
        assertTrue(e.getMessage().contains("NoSuchStrategy"), e.getMessage());
    }
}
