package dev.kafkareranker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.LongDocuments.ChunkPooling;
import dev.kafkareranker.model.LongDocuments.Mode;
import dev.kafkareranker.model.LongDocuments.TruncationSide;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's long-document settings: reranker.json's, the app's per-model keys over them, transformers'
 * tokenizer_config.json truncation_side under them, and settings that contradict each other refused in one
 * line that names the keys. ONNX files are not opened here.
 */
class LongDocumentsSettingsTest {

    @TempDir
    Path dir;

    private void model(String reranker) throws IOException {
        Files.writeString(dir.resolve("model.onnx"), "not opened in these tests");
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "vocab": {"<s>": 0, "<pad>": 1, "</s>": 2, "a": 3}},
                 "added_tokens": [{"id": 1, "content": "<pad>"}]}""");
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "bert", "num_labels": 1, "vocab_size": 4, "max_position_embeddings": 8192}""");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 8192}");
        Files.writeString(dir.resolve("reranker.json"), reranker);
    }

    private static ModelOverrides keys(Optional<String> mode, OptionalInt stride, OptionalInt maxChunks, Optional<String> pooling,
                                       Optional<String> side, OptionalInt maxLength) {
        return new ModelOverrides("model.legal.", maxLength, mode, stride, maxChunks, pooling, OptionalInt.empty(), side);
    }

    @Test
    void withoutSettingsLongPassagesAreTruncatedFromTheRightAsBefore() throws IOException {
        model("{}");
        LongDocuments settings = ModelDirectory.load(dir).longDocuments();
        assertEquals(LongDocuments.TRUNCATE.mode(), settings.mode());
        assertEquals(TruncationSide.RIGHT, settings.side());
        assertEquals(LongDocuments.DEFAULT_MAX_CHUNKS, settings.maxChunks());
    }

    @Test
    void rerankerJsonSettingsAreRead() throws IOException {
        model("""
                {"long_documents": "chunk", "chunk_stride": 64, "max_chunks": 6, "chunk_pooling": "mean",
                 "max_document_tokens": 4000, "truncation_side": "left", "max_length": 512}""");
        ModelSpec spec = ModelDirectory.load(dir);
        LongDocuments settings = spec.longDocuments();
        assertEquals(Mode.CHUNK, settings.mode());
        assertEquals(OptionalInt.of(64), settings.chunkStride());
        assertEquals(6, settings.maxChunks());
        assertEquals(ChunkPooling.MEAN, settings.pooling());
        assertEquals(OptionalInt.of(4000), settings.maxDocumentTokens());
        assertEquals(TruncationSide.LEFT, settings.side());
        assertEquals(512, spec.maxLength());
    }

    @Test
    void theAppsKeysWinOverRerankerJsonAndTheirErrorsNameThem() throws IOException {
        model("{\"long_documents\": \"chunk\", \"max_chunks\": 6, \"max_length\": 512}");
        ModelSpec spec = ModelDirectory.load(dir, keys(Optional.empty(), OptionalInt.empty(), OptionalInt.of(3), Optional.of("first"),
                Optional.empty(), OptionalInt.of(2048)));
        assertEquals(3, spec.longDocuments().maxChunks());
        assertEquals(ChunkPooling.FIRST, spec.longDocuments().pooling());
        assertEquals(2048, spec.maxLength(), spec.maxLengthSource());
        assertTrue(spec.maxLengthSource().startsWith("model.legal.max.length 2048"), spec.maxLengthSource());
        assertEquals("model.legal.max_chunks".replace('_', '.'), spec.longDocuments().source("max_chunks"));

        ModelLoadException tooLong = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir, keys(Optional.empty(),
                OptionalInt.empty(), OptionalInt.empty(), Optional.empty(), Optional.empty(), OptionalInt.of(9000))));
        assertTrue(tooLong.getMessage().contains("model.legal.max.length=9000") && tooLong.getMessage().contains("8192"), tooLong.getMessage());
    }

    @Test
    void chunkSettingsWithTruncationAreRefusedNamingBothKeys() throws IOException {
        model("{\"max_chunks\": 6}");
        ModelLoadException inFile = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(inFile.getMessage().contains("reranker.json max_chunks") && inFile.getMessage().contains("long_documents"),
                inFile.getMessage());

        model("{}");
        ModelLoadException fromApp = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir, keys(Optional.empty(),
                OptionalInt.of(32), OptionalInt.empty(), Optional.empty(), Optional.empty(), OptionalInt.empty())));
        assertTrue(fromApp.getMessage().contains("model.legal.chunk.stride") && fromApp.getMessage().contains("model.legal.long.documents=chunk"),
                fromApp.getMessage());
    }

    @Test
    void theAppMayTurnChunkingOffOverARerankerJsonThatChunks() throws IOException {
        model("{\"long_documents\": \"chunk\", \"max_chunks\": 6, \"chunk_pooling\": \"mean\"}");
        ModelSpec spec = ModelDirectory.load(dir, keys(Optional.of("truncate"), OptionalInt.empty(), OptionalInt.empty(), Optional.empty(),
                Optional.empty(), OptionalInt.empty()));
        assertEquals(Mode.TRUNCATE, spec.longDocuments().mode());
    }

    @Test
    void badValuesInRerankerJsonAreRefusedWithWhatIsAllowed() throws IOException {
        model("{\"long_documents\": \"split\"}");
        ModelLoadException mode = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(mode.getMessage().contains("long_documents is 'split'") && mode.getMessage().contains("truncate, chunk"), mode.getMessage());
        model("{\"long_documents\": \"chunk\", \"max_chunks\": 0}");
        ModelLoadException chunks = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(chunks.getMessage().contains("max_chunks is 0") && chunks.getMessage().contains("at least 1"), chunks.getMessage());
        model("{\"long_documents\": \"chunk\", \"chunk_stride\": 1.5}");
        assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
    }

    @Test
    void tokenizerConfigsTruncationSideIsTakenAsTransformersTakesIt() throws IOException {
        model("{}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 8192, \"truncation_side\": \"left\"}");
        LongDocuments settings = ModelDirectory.load(dir).longDocuments();
        assertEquals(TruncationSide.LEFT, settings.side());
        assertTrue(settings.source("truncation_side").endsWith("tokenizer_config.json truncation_side"), settings.source("truncation_side"));
        model("{\"truncation_side\": \"right\"}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 8192, \"truncation_side\": \"left\"}");
        assertEquals(TruncationSide.RIGHT, ModelDirectory.load(dir).longDocuments().side(), "reranker.json wins");
    }
}
