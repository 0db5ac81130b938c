package dev.kafkareranker.it;

import dev.kafkareranker.app.RerankerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The app's settings for a test on topics PREFIX.candidates, PREFIX.results and PREFIX.dlq: the fp32 bi-encoder
 * fixture on the CPU, a fresh state.dir, and a max wait long enough that every query in these tests completes by
 * its candidate_count.
 */
final class AppSettings {

    private static final Path BI_ENCODER = Path.of("..", "tools", "fixtures", "bi-encoder").toAbsolutePath();

    private AppSettings() {
    }

    /** {@code adminPort}: "0" for any free port, "-1" for none. */
    static Map<String, Object> biEncoder(String bootstrap, String registryUrl, String applicationId, String prefix, String adminPort)
            throws IOException {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("schema.registry.url", registryUrl);
        props.put("application.id", applicationId);
        props.put(RerankerConfig.ADMIN_PORT, adminPort);
        props.put("state.dir", Files.createTempDirectory(applicationId + "-state").toString());
        props.put(RerankerConfig.TOPIC_CANDIDATES, prefix + ".candidates");
        props.put(RerankerConfig.TOPIC_RESULTS, prefix + ".results");
        props.put(RerankerConfig.TOPIC_DEAD_LETTERS, prefix + ".dlq");
        props.put(RerankerConfig.GATHER_MAX_WAIT_MS, "60000");
        props.put(RerankerConfig.INFERENCE_DEVICE, "cpu");
        props.put(RerankerConfig.MODEL_DIR, BI_ENCODER.toString());
        return props;
    }
}
