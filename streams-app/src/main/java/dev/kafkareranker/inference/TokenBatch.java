package dev.kafkareranker.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Rows padded to the batch's longest, as the int64 tensors the models take. Close it after the run. */
final class TokenBatch implements AutoCloseable {

    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String TOKEN_TYPE_IDS = "token_type_ids";

    private final Map<String, OnnxTensor> tensors = new HashMap<>();
    private final int rows;
    private final int width;
    private final long[] mask;

    /**
     * @param withTypeIds whether the session takes token_type_ids: decided by the session's inputs,
     *                    since RoBERTa-family models have none and BERT-family models need them
     */
    TokenBatch(List<Encoded> sequences, long padId, boolean padLeft, boolean withTypeIds) throws OrtException {
        this.rows = sequences.size();
        int longest = 0;
        for (Encoded e : sequences) {
            longest = Math.max(longest, e.length());
        }
        this.width = longest;
        long[] ids = new long[rows * width];
        long[] types = new long[rows * width];
        mask = new long[rows * width];
        java.util.Arrays.fill(ids, padId);
        for (int r = 0; r < rows; r++) {
            Encoded e = sequences.get(r);
            int offset = r * width + (padLeft ? width - e.length() : 0);
            System.arraycopy(e.ids(), 0, ids, offset, e.length());
            System.arraycopy(e.typeIds(), 0, types, offset, e.length());
            java.util.Arrays.fill(mask, offset, offset + e.length(), 1L);
        }
        OrtEnvironment env = OnnxModel.environment();
        long[] shape = {rows, width};
        try {
            tensors.put(INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            tensors.put(ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (withTypeIds) {
                tensors.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            }
        } catch (OrtException e) {
            close();
            throw e;
        }
    }

    Map<String, OnnxTensor> tensors() {
        return tensors;
    }

    int rows() {
        return rows;
    }

    int width() {
        return width;
    }

    /** 1 where a real token is, 0 on padding; row-major [rows, width]. */
    long[] mask() {
        return mask;
    }

    @Override
    public void close() {
        tensors.values().forEach(OnnxTensor::close);
    }
}
