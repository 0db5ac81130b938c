package dev.kafkareranker.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kafkareranker.model.ModelOverrides;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * tools/fixtures/chunked/NAME.json, written by {@code python -m reranker_tools chunked --fixtures fixtures}: sets of
 * long passages with their long-document settings, each passage's chunks (characters, logit, score) and the pooled
 * score, from transformers / sentence-transformers on PyTorch fp32.
 */
public record ChunkedGolden(String fixture, List<GoldenSet> sets) {

    public static final Path DIR = FixtureParityTest.FIXTURES.resolve("chunked");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One set of passages scored under one set of settings. */
    public record GoldenSet(String name, int maxLength, JsonNode settings, List<Passage> passages) {

        public boolean chunked() {
            return settings.path("long_documents").asText().equals("chunk");
        }

        /** The settings as the app's per-model keys would give them. */
        public ModelOverrides overrides() {
            return new ModelOverrides("model.test.", OptionalInt.of(maxLength), Optional.of(settings.get("long_documents").asText()),
                    optionalInt("chunk_stride"), chunked() ? OptionalInt.of(settings.get("max_chunks").asInt()) : OptionalInt.empty(),
                    chunked() ? Optional.of(settings.get("chunk_pooling").asText()) : Optional.empty(), optionalInt("max_document_tokens"),
                    Optional.of(settings.get("truncation_side").asText()));
        }

        private OptionalInt optionalInt(String key) {
            return settings.hasNonNull(key) ? OptionalInt.of(settings.get(key).asInt()) : OptionalInt.empty();
        }
    }

    /** A passage, its pooled score and its chunks; tokens are null for a passage that was not chunked. */
    public record Passage(String query, String document, double logit, double score, int bestChunk, List<Chunk> chunks,
                          Integer tokens, Integer tokensScored, Integer tokensCut, boolean chunksCut) {

        /** A chunk's text, cut from the document by its characters (code points) as the reference cut it. */
        public String chunkText(int chunk) {
            Chunk c = chunks.get(chunk);
            if (c.start() == null || chunks.size() == 1 && tokensCut != null && tokensCut == 0) {
                return document;
            }
            int from = document.offsetByCodePoints(0, c.start());
            return document.substring(from, document.offsetByCodePoints(from, c.end() - c.start()));
        }
    }

    /** One chunk; start and end are null for a passage that went in whole. */
    public record Chunk(Integer start, Integer end, double logit, double score) {}

    public static ChunkedGolden read(String fixture) throws IOException {
        JsonNode root = JSON.readTree(DIR.resolve(fixture + ".json").toFile());
        List<GoldenSet> sets = new ArrayList<>();
        for (JsonNode set : root.get("sets")) {
            List<Passage> passages = new ArrayList<>();
            for (JsonNode p : set.get("passages")) {
                List<Chunk> chunks = new ArrayList<>();
                for (JsonNode c : p.get("chunks")) {
                    chunks.add(new Chunk(integer(c, "start"), integer(c, "end"), c.get("logit").asDouble(), c.get("score").asDouble()));
                }
                passages.add(new Passage(p.get("query").asText(), p.get("document").asText(), p.get("logit").asDouble(),
                        p.get("score").asDouble(), p.get("best_chunk").asInt(), chunks, integer(p, "tokens"), integer(p, "tokens_scored"),
                        integer(p, "tokens_cut"), p.get("chunks_cut").asBoolean()));
            }
            sets.add(new GoldenSet(set.get("name").asText(), set.get("max_length").asInt(), set.get("settings"), passages));
        }
        return new ChunkedGolden(fixture, sets);
    }

    private static Integer integer(JsonNode node, String key) {
        return node.hasNonNull(key) ? node.get(key).asInt() : null;
    }
}
