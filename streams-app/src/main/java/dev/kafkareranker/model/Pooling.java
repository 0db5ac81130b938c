package dev.kafkareranker.model;

/** How a bi-encoder turns token embeddings into one vector. */
public enum Pooling {
    /** The first token's embedding (BGE, most BERT-style retrievers). */
    CLS,
    /** The mean over real (unmasked) tokens (sentence-transformers' MiniLM, E5). */
    MEAN;

    static Pooling parse(String value, String file) {
        return switch (value) {
            case "cls" -> CLS;
            case "mean" -> MEAN;
            default -> throw new ModelLoadException(file + ": pooling '" + value + "' is not one of cls, mean");
        };
    }
}
