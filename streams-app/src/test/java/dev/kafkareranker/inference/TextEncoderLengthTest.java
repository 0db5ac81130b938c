package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encodings are as long as the model directory allows, whatever any library defaults to. DJL's
 * tokenizer used to default its model limit to 512 and lower a larger max length to it with only a
 * warning: these pairs would then come out at 512.
 */
class TextEncoderLengthTest {

    private static final Path LLAMA = Path.of("..", "tools", "fixtures", "llama-decoder");
    private static final int LIMIT = 2048;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The llama fixture (RoPE, so its graph takes any length) with a 2,048-position config and tokenizer. */
    private ModelSpec longLlama() throws IOException {
        try (Stream<Path> files = Files.list(LLAMA)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        edit("config.json", "max_position_embeddings", LIMIT);
        edit("tokenizer_config.json", "model_max_length", LIMIT);
        ObjectNode reranker = (ObjectNode) JSON.readTree(dir.resolve("reranker.json").toFile());
        reranker.putNull("max_length");
        JSON.writeValue(dir.resolve("reranker.json").toFile(), reranker);
        return ModelDirectory.load(dir);
    }

    private void edit(String file, String field, int value) throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(dir.resolve(file).toFile());
        node.put(field, value);
        JSON.writeValue(dir.resolve(file).toFile(), node);
    }

    private static String words(int count) {
        StringBuilder text = new StringBuilder();
        String[] vocabulary = {"contract", "tenant", "court", "ruling", "article", "the", "of", "notice", "party", "law"};
        for (int i = 0; i < count; i++) {
            text.append(vocabulary[(i * 7) % vocabulary.length]).append(i % 13 == 0 ? ". " : " ");
        }
        return text.toString();
    }

    /** Token count with no truncation at all, as a reference the encoder under test cannot influence. */
    private static int untruncated(ModelSpec spec, String query, String document) throws IOException {
        try (HuggingFaceTokenizer plain = HuggingFaceTokenizer.newInstance(spec.tokenizerFile(),
                Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"))) {
            return plain.encode(query, document).getIds().length;
        }
    }

    @Test
    void pairsLongerThan512TokensKeepTheirLengthUpToTheModelsLimit() throws IOException {
        ModelSpec spec = longLlama();
        assertEquals(LIMIT, spec.maxLength(), spec.maxLengthSource());
        String query = "which notice period applies to the tenant";
        String medium = words(300);
        String longer = words(1200);
        int mediumTokens = untruncated(spec, query, medium);
        int longerTokens = untruncated(spec, query, longer);
        assertTrue(mediumTokens > 1024 && mediumTokens < LIMIT, "the medium pair is 1,024-2,048 tokens: " + mediumTokens);
        assertTrue(longerTokens > LIMIT, "the long pair exceeds the limit: " + longerTokens);

        try (TextEncoder encoder = new TextEncoder(spec)) {
            assertEquals(LIMIT, encoder.maxLength());
            List<Encoded> encoded = encoder.encodePairs(query, List.of(medium, longer));
            assertEquals(mediumTokens, encoded.get(0).length(), "a pair under the limit is not cut (512 would be a library default)");
            assertEquals(LIMIT, encoded.get(1).length(), "a pair over the limit is cut at the model's limit, not 512");
        }
    }

    @Test
    void theStartUpSourceNamesEveryLimit() throws IOException {
        ModelSpec spec = longLlama();
        assertTrue(spec.maxLengthSource().contains("tokenizer_config.json model_max_length 2048")
                && spec.maxLengthSource().contains("config.json max_position_embeddings 2048"), spec.maxLengthSource());
    }
}
