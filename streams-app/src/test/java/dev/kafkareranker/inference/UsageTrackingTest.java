package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.ModelDirectory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** DJL must not report usage from a self-hosted pipeline: opting out is the default wherever a tokenizer is made. */
class UsageTrackingTest {

    @Test
    void openingAModelOptsOutOfDjlUsageTrackingBeforeItsTokenizerIsMade() {
        String before = System.getProperty(UsageTracking.OPT_OUT);
        System.clearProperty(UsageTracking.OPT_OUT);
        try (InferenceEngine engine = Scorers.open(ModelDirectory.load(Path.of("..", "tools", "fixtures", "bert-cross-encoder")),
                InferenceOptions.defaults().withDevice(Device.parse("cpu")))) {
            assertEquals("true", System.getProperty(UsageTracking.OPT_OUT));
            // What DJL itself reads at each tokenizer creation (environment first, then this property).
            if (System.getenv(UsageTracking.OPT_OUT) == null) {
                assertTrue(Boolean.parseBoolean(ai.djl.util.Utils.getEnvOrSystemProperty(UsageTracking.OPT_OUT)));
            }
        } finally {
            if (before != null) {
                System.setProperty(UsageTracking.OPT_OUT, before);
            }
        }
    }

    @Test
    void aUsersOwnSettingWins() {
        String before = System.getProperty(UsageTracking.OPT_OUT);
        System.setProperty(UsageTracking.OPT_OUT, "false");
        try {
            UsageTracking.optOut();
            assertEquals("false", System.getProperty(UsageTracking.OPT_OUT));
        } finally {
            if (before != null) {
                System.setProperty(UsageTracking.OPT_OUT, before);
            } else {
                System.clearProperty(UsageTracking.OPT_OUT);
            }
        }
    }
}
