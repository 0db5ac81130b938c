package dev.kafkareranker.inference;

/**
 * DJL's tokenizer library reports usage to its vendor when it runs on EC2 or SageMaker
 * ({@code ai.djl.util.Ec2Utils.callHome}, called by every {@code HuggingFaceTokenizer.newInstance})
 * unless {@code OPT_OUT_TRACKING} is true, read from the environment first and then from the system
 * property of that name at each call. A self-hosted pipeline must not phone home by default, so the
 * property is set before any tokenizer is made; a user's own {@code OPT_OUT_TRACKING} environment
 * variable or {@code -DOPT_OUT_TRACKING=...} still decides.
 */
public final class UsageTracking {

    /** The name DJL 0.35.0 reads (ai.djl.util.Ec2Utils, via Utils.getEnvOrSystemProperty). */
    public static final String OPT_OUT = "OPT_OUT_TRACKING";

    private UsageTracking() {
    }

    /** Opts out unless the user set the property already; cheap, and called wherever tokenizers are made. */
    public static void optOut() {
        if (System.getProperty(OPT_OUT) == null) {
            System.setProperty(OPT_OUT, "true");
        }
    }
}
