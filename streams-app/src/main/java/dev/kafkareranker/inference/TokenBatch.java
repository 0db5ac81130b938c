package dev.kafkareranker.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rows padded to the batch's longest, as the int64 tensors the models take. Close it after the run.
 *
 * <p>The tensors are views of a {@link Buffers}' direct buffers, which ONNX Runtime reads in place: a heap
 * array would be copied into a fresh direct buffer for every tensor of every batch. The buffers are not
 * touched again until this batch is closed.
 */
final class TokenBatch implements AutoCloseable {

    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String TOKEN_TYPE_IDS = "token_type_ids";

    /** Reused direct input (and optionally output) buffers, grown to the largest batch seen. */
    static final class Buffers {
        private LongBuffer ids = allocateLongs(0);
        private LongBuffer types = allocateLongs(0);
        private LongBuffer mask = allocateLongs(0);
        private FloatBuffer output = allocateFloats(0);

        private static LongBuffer allocateLongs(int n) {
            return ByteBuffer.allocateDirect(Math.multiplyExact(n, Long.BYTES)).order(ByteOrder.nativeOrder()).asLongBuffer();
        }

        private static FloatBuffer allocateFloats(int n) {
            return ByteBuffer.allocateDirect(Math.multiplyExact(n, Float.BYTES)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        void ensure(int elements) {
            if (ids.capacity() < elements) {
                // Room for growth: the widths of the next batches vary around this one.
                int size = Math.max(elements, ids.capacity() + ids.capacity() / 2);
                ids = allocateLongs(size);
                types = allocateLongs(size);
                mask = allocateLongs(size);
            }
        }

        /** A direct float buffer of exactly {@code elements}, for an output ONNX Runtime writes in place. */
        FloatBuffer output(int elements) {
            if (output.capacity() < elements) {
                output = allocateFloats(Math.max(elements, output.capacity() + output.capacity() / 2));
            }
            output.clear().limit(elements);
            return output.slice();
        }
    }

    private final Map<String, OnnxTensor> tensors = new HashMap<>();
    private final List<Encoded> sequences;
    private final int width;
    private final LongBuffer mask;

    /** With buffers of its own: for one-off batches. */
    TokenBatch(List<Encoded> sequences, long padId, boolean padLeft, boolean withTypeIds) throws OrtException {
        this(sequences, padId, padLeft, withTypeIds, new Buffers());
    }

    /**
     * @param withTypeIds whether the session takes token_type_ids: decided by the session's inputs,
     *                    since RoBERTa-family models have none and BERT-family models need them
     * @param buffers     filled here and read by ONNX Runtime until this batch is closed
     */
    TokenBatch(List<Encoded> sequences, long padId, boolean padLeft, boolean withTypeIds, Buffers buffers) throws OrtException {
        this.sequences = sequences;
        int rows = sequences.size();
        int longest = 0;
        for (Encoded e : sequences) {
            longest = Math.max(longest, e.length());
        }
        this.width = longest;
        int elements = Math.multiplyExact(rows, width);
        buffers.ensure(elements);
        LongBuffer ids = view(buffers.ids, elements);
        LongBuffer types = view(buffers.types, elements);
        this.mask = view(buffers.mask, elements);
        for (int r = 0; r < rows; r++) {
            Encoded e = sequences.get(r);
            int start = r * width;
            int offset = start + (padLeft ? width - e.length() : 0);
            for (int i = start; i < start + width; i++) {
                ids.put(i, padId);
                types.put(i, 0L);
                mask.put(i, 0L);
            }
            ids.put(offset, e.ids(), 0, e.length());
            types.put(offset, e.typeIds(), 0, e.length());
            for (int i = offset; i < offset + e.length(); i++) {
                mask.put(i, 1L);
            }
        }
        OrtEnvironment env = OnnxModel.environment();
        long[] shape = {rows, width};
        try {
            tensors.put(INPUT_IDS, OnnxTensor.createTensor(env, ids, shape));
            tensors.put(ATTENTION_MASK, OnnxTensor.createTensor(env, mask, shape));
            if (withTypeIds) {
                tensors.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, types, shape));
            }
        } catch (OrtException e) {
            close();
            throw e;
        }
    }

    private static LongBuffer view(LongBuffer buffer, int elements) {
        LongBuffer view = buffer.duplicate();
        view.clear().limit(elements);
        return view.slice();
    }

    /** The input tensors by input name, as the session takes them; views of the buffers, valid until {@link #close()}. */
    Map<String, OnnxTensor> tensors() {
        return tensors;
    }

    /** Rows in the batch: the tensors' first dimension. */
    int rows() {
        return sequences.size();
    }

    /** The rows as they were before padding, in batch order. */
    List<Encoded> sequences() {
        return sequences;
    }

    /** 1 where a real token is, 0 on padding; row-major [rows, width]. */
    long mask(int row, int position) {
        return mask.get(row * width + position);
    }

    /** The padded length: the longest row's, the tensors' second dimension. */
    int width() {
        return width;
    }

    @Override
    public void close() {
        tensors.values().forEach(OnnxTensor::close);
    }
}
