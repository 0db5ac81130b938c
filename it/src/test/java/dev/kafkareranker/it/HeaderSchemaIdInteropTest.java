package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kafkareranker.app.EmbeddedKafka;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.gather.DeadLetters;
import dev.kafkareranker.serde.AvroDeserializer;
import dev.kafkareranker.serde.DevSchemaRegistryServer;
import dev.kafkareranker.serde.SchemaRegistryException;
import dev.kafkareranker.serde.WireFormat;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Confluent 8.0's schema ids in record headers, written by Confluent's own Python client (confluent-kafka 2.16.1,
 * {@code header_schema_id_serializer}: bare Avro, the schema's GUID in {@code __value_schema_id}), on the in-JVM
 * broker with the project's registry server ({@link DevSchemaRegistryServer}, which serves
 * {@code /schemas/guids/{guid}}; Apicurio 3.3 does not). The same queries written with prefix ids are the control.
 */
class HeaderSchemaIdInteropTest {

    private static final Path CANDIDATE_SCHEMA = Path.of("..", "schemas", "src", "main", "avro", "RetrievalCandidate.avsc").toAbsolutePath();
    private static final int QUERIES = 4;
    private static final int CANDIDATES = 5;

    private static EmbeddedKafka kafka;
    private static DevSchemaRegistryServer registry;
    private static ConfluentPython python;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        registry = DevSchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", 0));
        python = ConfluentPython.against(kafka.bootstrapServers(), registry.url());
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static void createTopics(int partitions, String... names) {
        kafka.createTopics(partitions, names);
    }

    private static JsonNode produce(String topic, String prefix, boolean headerIds, int unknownGuids) throws Exception {
        List<String> args = new ArrayList<>(List.of("--topic", topic, "--schema", CANDIDATE_SCHEMA.toString(), "--prefix", prefix,
                "--queries", String.valueOf(QUERIES), "--candidates", String.valueOf(CANDIDATES),
                "--unknown-guid", String.valueOf(unknownGuids)));
        if (headerIds) {
            args.add("--header-ids");
        }
        return python.run("produce", args.toArray(String[]::new));
    }

    @Test
    void confluentsHeaderSerializerWritesAGuidHeaderThatTheDualReaderResolves() throws Exception {
        String topic = "hdr-wire.candidates";
        createTopics(1, topic);
        JsonNode header = produce(topic, "h", true, 1);
        JsonNode prefix = produce(topic, "p", false, 0);

        UUID guid = UUID.fromString(header.get("guid").asText());
        assertEquals(guid, registry.registry().guidOfId(header.get("schema_id").asInt()), "the registry's GUID for that id");
        assertEquals(List.of(HexFormat.of().formatHex(WireFormat.guidBytes(guid))),
                List.of(header.get("schema_id_headers").get(0).asText()), "17 bytes: magic 1, then the GUID big-endian");

        Map<String, Object> settings = Map.of("schema.registry.url", registry.url(),
                "specific.avro.value.type", RetrievalCandidate.class);
        AvroDeserializer<RetrievalCandidate> reader = new AvroDeserializer<>();
        reader.configure(settings, false);
        Map<String, RetrievalCandidate> byHeader = new HashMap<>();
        Map<String, RetrievalCandidate> byPrefix = new HashMap<>();
        List<SerializationException> refused = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : RawRecords.first(kafka.bootstrapServers(), topic, 2 * QUERIES * CANDIDATES + 1)) {
            Header id = record.headers().lastHeader(WireFormat.VALUE_SCHEMA_ID_HEADER);
            try {
                RetrievalCandidate candidate = reader.deserialize(topic, record.headers(), record.value());
                (id != null ? byHeader : byPrefix).put(candidate.getDocId().substring(1), candidate);
                // A header-id record's payload is bare Avro (here its first field's length), a prefix-id one starts with 0.
                assertEquals(id == null, record.value()[0] == WireFormat.MAGIC_BYTE, "payload form of " + candidate.getDocId());
            } catch (SerializationException e) {
                refused.add(e);
            }
        }
        assertEquals(QUERIES * CANDIDATES, byHeader.size(), "every header-id candidate decodes");
        assertEquals(byPrefix.keySet(), byHeader.keySet());
        byHeader.forEach((doc, candidate) -> {
            RetrievalCandidate control = byPrefix.get(doc);
            assertEquals(control.getText(), candidate.getText());
            assertEquals(control.getQuery(), candidate.getQuery());
            assertEquals(control.getRetrievalRank(), candidate.getRetrievalRank());
        });
        assertEquals(1, refused.size(), "the unknown GUID: " + refused);
        assertTrue(refused.get(0).getMessage().startsWith("Unknown schema guid "), refused.get(0).getMessage());
        assertFalse(SchemaRegistryException.isTransientFailure(refused.get(0)));
        System.out.printf("header ids: confluent-kafka wrote %d candidates with the GUID %s in __value_schema_id and %d with"
                + " prefix id %d; all read alike; the unknown GUID was refused: %s%n", header.get("sent").asInt(), guid,
                prefix.get("sent").asInt(), prefix.get("schema_id").asInt(), refused.get(0).getMessage());
    }

    /**
     * The pipeline: header-id candidates are ranked like prefix-id ones (same queries, same passages, same scores),
     * and a candidate whose header names a GUID the registry does not know is a dead letter with its reason, its
     * bytes and headers as produced.
     */
    @Test
    void headerIdCandidatesAreRankedLikePrefixIdOnesAndAnUnknownGuidIsADeadLetter() throws Exception {
        String prefix = "hdr";
        TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), registry.url(), prefix).topics(2, 1)
                .applicationId("header-ids-" + prefix).model(TestApp.BI_ENCODER);
        try (RerankerApp app = setup.start()) {
            produce(prefix + ".candidates", "h", true, 1);
            produce(prefix + ".candidates", "p", false, 0);

            AvroDeserializer<RankedResults> results = new AvroDeserializer<>();
            results.configure(Map.of("schema.registry.url", registry.url(), "specific.avro.value.type", RankedResults.class), false);
            Map<String, RankedResults> byQuery = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> record : RawRecords.first(kafka.bootstrapServers(), prefix + ".results", 2 * QUERIES)) {
                RankedResults result = results.deserialize(record.topic(), record.headers(), record.value());
                assertEquals(null, byQuery.put(result.getQueryId(), result), "one result per query");
            }
            for (int q = 0; q < QUERIES; q++) {
                RankedResults header = byQuery.get("h" + q);
                RankedResults control = byQuery.get("p" + q);
                assertNotNull(header, "a result for header-id query h" + q + ": " + byQuery.keySet());
                assertEquals(CANDIDATES, header.getCandidatesReceived());
                assertEquals(ranking(control), ranking(header), "query " + q + " ranked alike");
            }
            ConsumerRecord<byte[], byte[]> dead = RawRecords.first(kafka.bootstrapServers(), prefix + ".dlq", 1).get(0);
            assertEquals("deserialization", text(dead, DeadLetters.HEADER_REASON));
            assertTrue(text(dead, DeadLetters.HEADER_MESSAGE).contains("Unknown schema guid"), text(dead, DeadLetters.HEADER_MESSAGE));
            assertNotNull(dead.headers().lastHeader(WireFormat.VALUE_SCHEMA_ID_HEADER), "the producer's headers kept");
        }
    }

    /** Doc ids without their query's prefix letter, in rank order, with scores. */
    private static List<String> ranking(RankedResults result) {
        List<String> out = new ArrayList<>();
        for (RankedDocument doc : result.getResults()) {
            out.add(doc.getDocId().substring(1) + "=" + String.format("%.6f", doc.getScore()));
        }
        return out;
    }

    private static String text(ConsumerRecord<byte[], byte[]> record, String header) {
        Header h = record.headers().lastHeader(header);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
