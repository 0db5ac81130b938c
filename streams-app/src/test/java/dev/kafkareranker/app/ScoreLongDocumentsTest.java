package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.parity.ChunkedGolden;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code reranker score} with a 512-token model (the gte-vi-legal fixture at model.max.length=512) on a
 * 3,019-token passage: in chunk mode its score is the pooled score of its nine chunks, equal to the Python
 * reference within 1e-4, and not the truncated score; each output line says what of the passage was read.
 */
class ScoreLongDocumentsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Run(JsonNode row, String err) {}

    private static Run score(String mode, ChunkedGolden.Passage passage) throws Exception {
        Map<String, Object> props = new HashMap<>(Map.of("model.dir", "../tools/fixtures/gte-vi-legal", "inference.device", "cpu",
                "model.max.length", "512", "model.long.documents", mode));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String line = JSON.writeValueAsString(Map.of("query", passage.query(), "document", passage.document()));
        int code = new ScoreCommand(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(new RerankerConfig(props), new BufferedReader(new StringReader(line + "\n")));
        assertEquals(0, code);
        String[] lines = out.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(1, lines.length);
        return new Run(JSON.readTree(lines[0]), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aLongPassageInChunkModeScoresAsThePooledChunksOfTheReference() throws Exception {
        ChunkedGolden.Passage passage = ChunkedGolden.read("gte-vi-legal").sets().get(0).passages().get(1);
        assertEquals(3019, passage.tokens(), "the golden passage this test is about");

        Run chunked = score("chunk", passage);
        assertEquals(passage.score(), chunked.row().get("score").asDouble(), 1e-4);
        assertEquals(passage.logit(), chunked.row().get("logit").asDouble(), 1e-4);
        ChunkedGolden.Chunk best = passage.chunks().get(passage.bestChunk());
        assertEquals(9, chunked.row().get("chunks").asInt());
        assertEquals(3019, chunked.row().get("tokens_scored").asInt());
        assertEquals(0, chunked.row().get("tokens_cut").asInt());
        assertEquals((int) best.start(), chunked.row().get("best_chunk_start").asInt());
        assertEquals((int) best.end(), chunked.row().get("best_chunk_end").asInt());
        assertTrue(chunked.err().contains("documents/s") && chunked.err().contains("9 rows"), chunked.err());

        Run truncated = score("truncate", passage);
        double difference = Math.abs(truncated.row().get("score").asDouble() - chunked.row().get("score").asDouble());
        assertTrue(difference > 1e-4, "truncating reads only the start: its score differs by " + difference);
        assertEquals(1, truncated.row().get("chunks").asInt());
        assertEquals(0, truncated.row().get("best_chunk_start").asInt());
        assertEquals(3019, truncated.row().get("tokens_scored").asInt() + truncated.row().get("tokens_cut").asInt());
        assertTrue(truncated.row().get("tokens_cut").asInt() > 2500, truncated.row().toString());
    }
}
