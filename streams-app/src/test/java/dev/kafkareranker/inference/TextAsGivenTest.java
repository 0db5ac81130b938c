package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.kafkareranker.model.Activation;
import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.model.Pooling;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every scoring method hands the tokenizer the texts as the user gave them, templates applied and nothing
 * stripped, as sentence-transformers 6 (CrossEncoder.predict, SentenceTransformer.encode) and transformers do.
 * Checked on a byte-level BPE tokenizer (roberta-lora's), where edge spaces, tabs and newlines are tokens of
 * their own, so a strip would change the rows; with templates, so the text around the user's is kept too. The
 * bi-encoder fixture's WordPiece tokenizer drops edge whitespace itself, so its parity goldens could not tell.
 */
class TextAsGivenTest {

    private static final Path ROBERTA = Path.of("..", "tools", "fixtures", "roberta-lora");
    private static final String QUERY = "  what is kafka streams\n";
    private static final List<String> PASSAGES = List.of("\tKafka Streams is a client library.  ", "\nState stores are restored.\n");

    private static ModelSpec spec(ModelKind kind) {
        return new ModelSpec("roberta-bpe", "1", kind, ROBERTA.resolve("model.onnx"), ROBERTA.resolve("tokenizer.json"), Activation.SIGMOID,
                0, 1, 64, "test", 1, false, Optional.of("query: {query}"), Optional.of("document: {document} "), Pooling.MEAN, true,
                Optional.empty());
    }

    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"CROSS_ENCODER", "DECODER", "BI_ENCODER"})
    void rowsAreTheTokensOfTheTextsAsGiven(ModelKind kind) {
        ModelSpec spec = spec(kind);
        try (TextEncoder encoder = new TextEncoder(spec)) {
            List<Encoded> rows = Scorers.method(spec, encoder).encode(QUERY, PASSAGES).rows();
            String query = spec.formatQuery(QUERY);
            List<String> documents = PASSAGES.stream().map(spec::formatDocument).toList();
            if (kind == ModelKind.BI_ENCODER) {
                assertEquals(1 + PASSAGES.size(), rows.size());
                assertTokens(encoder.single(query).getIds(), encoder.single(query.strip()).getIds(), rows.get(0), kind + " query row");
                for (int i = 0; i < documents.size(); i++) {
                    String d = documents.get(i);
                    assertTokens(encoder.single(d).getIds(), encoder.single(d.strip()).getIds(), rows.get(1 + i), kind + " passage row " + i);
                }
            } else {
                assertEquals(PASSAGES.size(), rows.size());
                for (int i = 0; i < documents.size(); i++) {
                    String d = documents.get(i);
                    assertTokens(encoder.pair(query, d).getIds(), encoder.pair(query.strip(), d.strip()).getIds(), rows.get(i), kind + " row " + i);
                }
            }
        }
    }

    /** The row holds the unstripped text's tokens, which differ from the stripped text's (so a strip would show). */
    private static void assertTokens(long[] asGiven, long[] stripped, Encoded row, String what) {
        assertFalse(Arrays.equals(asGiven, stripped), what + ": this text's edge whitespace must be tokens of their own");
        assertArrayEquals(asGiven, row.ids(), what);
    }
}
