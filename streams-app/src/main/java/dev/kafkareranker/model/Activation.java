package dev.kafkareranker.model;

/** The function from logits to score, with sentence-transformers' names and defaults. */
public enum Activation {
    SIGMOID, IDENTITY, SOFTMAX;

    /** The score for {@code logits} of one row, reading entry {@code labelIndex}. */
    public double apply(float[] logits, int labelIndex) {
        return switch (this) {
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-logits[labelIndex]));
            case IDENTITY -> logits[labelIndex];
            case SOFTMAX -> softmax(logits, labelIndex);
        };
    }

    private static double softmax(float[] logits, int index) {
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        return Math.exp(logits[index] - max) / sum;
    }

    /**
     * Parses reranker.json's or config.json's name for it; accepts sentence-transformers' class paths
     * ({@code torch.nn.modules.activation.Sigmoid}, {@code torch.nn.Identity}).
     */
    static Activation parse(String value, String file) {
        String simple = value.substring(value.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
        return switch (simple) {
            case "sigmoid" -> SIGMOID;
            case "identity" -> IDENTITY;
            case "softmax" -> SOFTMAX;
            default -> throw new ModelLoadException(file + ": activation '" + value + "' is not one of sigmoid, identity, softmax");
        };
    }
}
