package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.avro.RetrievalCandidate;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** consume's JSON: a union's value as itself, timestamps as ISO-8601, maps as objects, nulls as null. */
class AvroJsonTest {

    @Test
    void unionsAreTheirValueAndTimestampsAreIsoText() {
        ObjectNode json = AvroJson.of(RetrievalCandidate.newBuilder().setQueryId("q").setQuery("a").setDocId("d").setText("t")
                .setRetrievalScore(0.5).setMetadata(Map.of("k", "v")).setEventTime(Instant.ofEpochMilli(0)).build());
        assertEquals(0.5, json.get("retrieval_score").asDouble());
        assertTrue(json.get("retrieval_rank").isNull());
        assertEquals("v", json.at("/metadata/k").asText());
        assertEquals("1970-01-01T00:00:00Z", json.get("event_time").asText());
        assertEquals("q", json.get("query_id").asText());
    }
}
