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
    void theExampleFilesInTheDocsAreAcceptedByRunAsTheyAre() throws IOException {
        String committed = Files.readString(Path.of("..", "docs", "configuration.md"));
        java.util.regex.Matcher blocks = java.util.regex.Pattern.compile("```properties\n(.*?)```", java.util.regex.Pattern.DOTALL).matcher(committed);
        int found = 0;
        while (blocks.find()) {
            Path file = Files.createTempFile("example", ".properties");
            try {
                Files.writeString(file, blocks.group(1));
                // What run checks before it contacts a broker: known keys, valid values, the required ones, a shared registry.
                RerankerConfig config = RerankerConfig.load(java.util.Optional.of(file), java.util.Map.of());
                if (config.modelDir().isEmpty()) {
                    Preflight.checkSettings(config, java.util.Optional.of(file));
                }
                assertTrue(config.originals().containsKey("bootstrap.servers"), blocks.group(1));
                found++;
            } finally {
                Files.delete(file);
            }
        }
        assertEquals(2, found, "the minimal and the production example");
        assertTrue(committed.indexOf("## Required") < committed.indexOf("## Every setting"), "required keys come first");
    }

    @Test
    void everyKeyIsInTheReference() {
        String docs = ConfigDocs.markdown();
        for (String key : RerankerConfig.DEFINITION.names()) {
            assertTrue(docs.contains("| `" + key + "` |"), key);
        }
    }
}
