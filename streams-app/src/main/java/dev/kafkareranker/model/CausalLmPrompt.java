package dev.kafkareranker.model;

import java.util.List;
import java.util.Optional;

/**
 * How a causal LM is asked whether a document answers a query (kind {@code causal-lm}), as
 * Qwen3-Reranker does: the prompt is {@code prefix + template(query, document) + suffix}, and the score
 * is sigmoid(logit("yes") - logit("no")) of the next token, i.e. the softmax over the two label words.
 * The prefix is tokenized with the tokenizer's own special tokens (LLaMA's BOS; Qwen adds none), the
 * rest without; only the templated middle is truncated, from its end, so the suffix that asks for the
 * answer always stays.
 *
 * @param prefix        text before the query and document (a system prompt); may be empty
 * @param template      the middle, with {@code {query}} and {@code {document}} replaced
 * @param suffix        text after them, up to where the answer's first token goes
 * @param labelWords    the positive and the negative word, each one token of the tokenizer
 * @param labelTokenIds the ids the exported graph reads (reranker.json {@code label_token_ids}), if stated:
 *                      the tokenizer's ids for {@code labelWords} must equal them
 */
public record CausalLmPrompt(String prefix, String template, String suffix, List<String> labelWords,
                             Optional<List<Long>> labelTokenIds) {

    public CausalLmPrompt {
        labelWords = List.copyOf(labelWords);
        labelTokenIds = labelTokenIds.map(List::copyOf);
    }

    /** The templated middle for one pair. */
    public String body(String query, String document) {
        // Replace the document last, so a query containing "{document}" is not expanded.
        int at = template.indexOf("{document}");
        String after = template.substring(at + "{document}".length()).replace("{query}", query);
        return beforeDocument(query) + document + after;
    }

    /** The part of {@link #body} before the document: where the document begins in it. */
    public String beforeDocument(String query) {
        return template.substring(0, template.indexOf("{document}")).replace("{query}", query);
    }
}
