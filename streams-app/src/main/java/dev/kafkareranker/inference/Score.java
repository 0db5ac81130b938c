package dev.kafkareranker.inference;

/**
 * One pair's result.
 *
 * @param logit the raw model output the score came from (for bi-encoders, the cosine itself)
 * @param score the score after the model's activation
 */
public record Score(double logit, double score) {}
