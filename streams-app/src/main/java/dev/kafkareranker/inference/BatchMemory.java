package dev.kafkareranker.inference;

/**
 * How many bytes one batch of {@code rows} × {@code width} tokens needs on the device beside the weights: an
 * estimate for eager attention (what tools/ exports: no fused or flash attention), written so that it errs
 * on the large side. ONNX Runtime frees a tensor after its last use and layers run one after another, so
 * what is live at the peak is one layer's tensors, not all layers'.
 *
 * <ul>
 *   <li>Attention scores: rows × heads × width² per tensor. Within a layer the raw scores, the masked scores
 *       and the softmax probabilities are separate nodes of an eager export and can be live together:
 *       {@value #ATTENTION_COPIES} tensors of the element size. (LLaMA's softmax runs in fp32 on an fp16
 *       graph: fp16 scores plus fp32 probabilities are 3 × 2 bytes as well.) The additive mask, rows × width²,
 *       is counted once in fp32.</li>
 *   <li>Activations: per token, {@value #HIDDEN_COPIES} hidden-size tensors (residual, norm, Q, K, V, context,
 *       projections, rotary copies) and {@value #INTERMEDIATE_COPIES} feed-forward tensors (gate, up and the
 *       activation of a gated MLP).</li>
 *   <li>Outputs: the next-token logits over the vocabulary at one position per row, in fp32, for graphs
 *       that return them ({@code causal-lm}; tools/ export keeps only two of them, so this is a bound).</li>
 * </ul>
 *
 * @param shape        the model's sizes
 * @param elementBytes 2 for an fp16 graph, 4 for fp32 (int8 graphs quantize weights only: their activations are fp32)
 * @param vocabOutput  whether rows carry next-token logits over the vocabulary
 */
record BatchMemory(ModelShape shape, int elementBytes, boolean vocabOutput) {

    static final int ATTENTION_COPIES = 3;
    static final int HIDDEN_COPIES = 8;
    static final int INTERMEDIATE_COPIES = 3;
    private static final int FP32 = 4;

    BatchMemory {
        if (elementBytes != 2 && elementBytes != 4) {
            throw new IllegalArgumentException("element size " + elementBytes + " bytes: expected 2 (fp16) or 4 (fp32)");
        }
    }

    /** Attention score tensors (and the mask) of the batch, in bytes. */
    long attentionBytes(int rows, int width) {
        long plane = (long) width * width;
        return rows * plane * ((long) shape.heads() * ATTENTION_COPIES * elementBytes + FP32);
    }

    /** Every other live tensor of the batch (hidden states, feed-forward, outputs), in bytes. */
    long activationBytes(int rows, int width) {
        long perToken = ((long) HIDDEN_COPIES * shape.hidden() + (long) INTERMEDIATE_COPIES * shape.intermediate()) * elementBytes;
        long outputs = vocabOutput ? (long) shape.vocab() * FP32 : 0;
        return rows * ((long) width * perToken + outputs);
    }

    long bytes(int rows, int width) {
        return attentionBytes(rows, width) + activationBytes(rows, width);
    }

    /** The most rows of {@code width} tokens whose estimate fits {@code budget} bytes; 0 when not even one does. */
    int rowsFitting(int width, long budget) {
        long perRow = bytes(1, width);
        return budget <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, budget / perRow);
    }
}
