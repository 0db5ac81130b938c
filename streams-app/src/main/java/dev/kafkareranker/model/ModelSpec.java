package dev.kafkareranker.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything the scorers need to know about one model directory, resolved once at load time from
 * {@code reranker.json}, {@code config.json} and {@code tokenizer_config.json}.
 *
 * @param name            model name, as results report it
 * @param version         model version, as results report it
 * @param kind            how pairs become scores
 * @param modelFile       the ONNX file to load (one of the directory's variants)
 * @param tokenizerFile   the HF fast tokenizer file
 * @param activation      logits to score
 * @param labelIndex      the logit that is the score (0 for one-label heads)
 * @param numLabels       width of the head; 0 for bi-encoders
 * @param maxLength       tokens per sequence after truncation: the smallest of the tokenizer's, the model's and reranker.json's
 * @param maxLengthSource where {@code maxLength} came from and the limits it was checked against, for the start-up log
 * @param padTokenId      id used for padding
 * @param padLeft         pad on the left (decoders trained so) instead of the right
 * @param queryTemplate   format applied to the query, {@code {query}} replaced; empty = as is
 * @param documentTemplate format applied to the passage, {@code {document}} replaced; empty = as is
 * @param pooling         bi-encoder pooling
 * @param normalize       bi-encoder: L2-normalize embeddings (cosine is computed either way)
 * @param prompt          causal-lm: the prompt and label words; empty for other kinds
 * @param longDocuments   what is done with a passage longer than the window leaves room for: cut or chunked
 */
public record ModelSpec(
        String name,
        String version,
        ModelKind kind,
        Path modelFile,
        Path tokenizerFile,
        Activation activation,
        int labelIndex,
        int numLabels,
        int maxLength,
        String maxLengthSource,
        long padTokenId,
        boolean padLeft,
        Optional<String> queryTemplate,
        Optional<String> documentTemplate,
        Pooling pooling,
        boolean normalize,
        Optional<CausalLmPrompt> prompt,
        LongDocuments longDocuments) {

    /** A spec whose long passages are truncated, as every model's were before chunking existed. */
    public ModelSpec(String name, String version, ModelKind kind, Path modelFile, Path tokenizerFile, Activation activation,
                     int labelIndex, int numLabels, int maxLength, String maxLengthSource, long padTokenId, boolean padLeft,
                     Optional<String> queryTemplate, Optional<String> documentTemplate, Pooling pooling, boolean normalize,
                     Optional<CausalLmPrompt> prompt) {
        this(name, version, kind, modelFile, tokenizerFile, activation, labelIndex, numLabels, maxLength, maxLengthSource, padTokenId,
                padLeft, queryTemplate, documentTemplate, pooling, normalize, prompt, LongDocuments.TRUNCATE);
    }

    public String formatQuery(String query) {
        return queryTemplate.map(t -> t.replace("{query}", query)).orElse(query);
    }

    public String formatDocument(String document) {
        return documentTemplate.map(t -> t.replace("{document}", document)).orElse(document);
    }

    /** The same model with another ONNX file (an fp16 or int8 variant). */
    public ModelSpec withModelFile(Path file) {
        return new ModelSpec(name, version, kind, file, tokenizerFile, activation, labelIndex, numLabels, maxLength, maxLengthSource,
                padTokenId, padLeft, queryTemplate, documentTemplate, pooling, normalize, prompt, longDocuments);
    }
}
