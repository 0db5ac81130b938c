package dev.kafkareranker.model;

/** How a model turns a (query, passage) pair into a score. */
public enum ModelKind {
    /** Query and passage in one sequence; the head's logits give the score. */
    CROSS_ENCODER("cross-encoder"),
    /** Query and passage embedded alone; the score is their cosine. */
    BI_ENCODER("bi-encoder"),
    /** A causal LM with a one-label head read at the last non-pad token (RankLLaMA style). */
    DECODER("decoder"),
    /**
     * A causal LM asked whether the document answers the query; the score comes from the next-token
     * logits of two label words ("yes" against "no") at the last position (Qwen3-Reranker style).
     */
    CAUSAL_LM("causal-lm");

    private final String configName;

    ModelKind(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    static ModelKind parse(String value, String file) {
        for (ModelKind kind : values()) {
            if (kind.configName.equals(value)) {
                return kind;
            }
        }
        throw new ModelLoadException(file + ": kind '" + value + "' is not one of cross-encoder, bi-encoder, decoder, causal-lm");
    }
}
