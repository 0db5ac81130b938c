package dev.kafkareranker.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class StrictUtf8Test {

    private static RetrievalCandidate candidate(String text) {
        return RetrievalCandidate.newBuilder().setQueryId("q").setQuery("q").setDocId("d").setText(text)
                .setMetadata(Map.of()).build();
    }

    @Test
    void refusesAStringWithBytesThatAreNotUtf8() {
        String scope = "strict-utf8";
        MockSchemaRegistry.drop(scope);
        Map<String, Object> config = Map.of("schema.registry.url", "mock://" + scope, "specific.avro.reader", true);
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(config, false);
        AvroDeserializer<RetrievalCandidate> deserializer = new AvroDeserializer<>();
        deserializer.configure(config, false);

        // "ZZZZ" as the text, then patched into 0xC3 0x28 0xA0 0xFF: an invalid two-byte sequence.
        byte[] bytes = serializer.serialize("t", candidate("ZZZZ"));
        String raw = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = raw.indexOf("ZZZZ");
        bytes[at] = (byte) 0xC3;
        bytes[at + 1] = (byte) 0x28;
        bytes[at + 2] = (byte) 0xA0;
        bytes[at + 3] = (byte) 0xFF;

        SerializationException e = assertThrows(SerializationException.class, () -> deserializer.deserialize("t", bytes));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());

        assertEquals("Tiếng Việt ✓", deserializer.deserialize("t", serializer.serialize("t", candidate("Tiếng Việt ✓"))).getText(),
                "valid multi-byte text still reads");
        MockSchemaRegistry.drop(scope);
    }
}
