package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The configuration reference in docs/ is what the definitions generate, so it cannot go stale. */
class ConfigDocsTest {

    @Test
    void docsConfigurationMdIsTheGeneratedReference() throws IOException {
        String committed = Files.readString(Path.of("..", "docs", "configuration.md"));
        assertEquals(ConfigDocs.markdown(), committed,
                "docs/configuration.md is stale: regenerate it with bin/reranker config-docs > docs/configuration.md");
    }

    @Test
    void everyKeyIsInTheReference() {
        String docs = ConfigDocs.markdown();
        for (String key : RerankerConfig.DEFINITION.names()) {
            assertTrue(docs.contains("| `" + key + "` |"), key);
        }
    }
}
