package dev.kafkareranker.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.model.Pooling;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A batch of rows through the ONNX session: pads them into tensors, runs, and reads each row's output:
 * the head's logits for cross-encoders and decoders, the pooled embedding for bi-encoders.
 */
final class OnnxRowModel implements RowModel {

    private final ModelSpec spec;
    private final OnnxModel model;
    private final String outputName;
    private final boolean typeIds;
    /** The run options of calls in progress, so a hung one can be told to terminate. */
    private final java.util.Set<OrtSession.RunOptions> running = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Sets of direct buffers not in use: two in steady state, one preparing while one runs. */
    private final java.util.concurrent.ConcurrentLinkedQueue<TokenBatch.Buffers> free = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** The output's declared fp32 shape, when it can be pre-allocated; null when ONNX Runtime must allocate it. */
    private final long[] declaredShape;

    OnnxRowModel(ModelSpec spec, OnnxModel model) {
        this.spec = spec;
        this.model = model;
        this.typeIds = model.takes(TokenBatch.TOKEN_TYPE_IDS);
        // A bi-encoder graph that pools in the graph (sentence-transformers' ONNX export) returns sentence_embedding,
        // [batch, hidden]: reading it copies hidden floats per row back from the device instead of width x hidden,
        // and leaves no pooling to do on the host.
        this.outputName = spec.kind() == ModelKind.BI_ENCODER
                ? ModelInputs.outputName(model, "sentence_embedding", "last_hidden_state", "token_embeddings")
                : ModelInputs.outputName(model, "logits");
        checkOutputRank();
        this.declaredShape = model.floatOutputShape(outputName);
    }

    /** Fails at load time, not on the first query, when the output cannot be what this kind needs. */
    private void checkOutputRank() {
        int rank;
        try {
            rank = model.outputRank(outputName);
        } catch (OrtException e) {
            throw new ModelLoadException("Cannot read the outputs of " + model.file() + ": " + e.getMessage(), e);
        }
        boolean bi = spec.kind() == ModelKind.BI_ENCODER;
        boolean fits = rank < 0 || (bi ? rank == 2 || rank == 3 : rank == 1 || rank == 2);
        if (!fits) {
            throw new ModelLoadException(model.file() + ": output '" + outputName + "' has rank " + rank + "; a "
                    + spec.kind().configName() + " needs " + (bi ? "[batch, seq, hidden] or [batch, hidden]" : "[batch, labels] or [batch]")
                    + " (is kind in reranker.json right?)");
        }
    }

    @Override
    public float[][] run(List<Encoded> rows) {
        try (Batch batch = prepare(rows)) {
            return run(batch);
        }
    }

    /**
     * Pads the rows into a free set of reused direct buffers (another set may be in a run at the same
     * time). A hung call that was abandoned keeps its set; a new one is made when none is free.
     */
    @Override
    public Batch prepare(List<Encoded> rows) {
        TokenBatch.Buffers buffers = free.poll();
        if (buffers == null) {
            buffers = new TokenBatch.Buffers();
        }
        try {
            return new Prepared(new TokenBatch(List.copyOf(rows), spec.padTokenId(), spec.padLeft(), typeIds, buffers), buffers);
        } catch (OrtException e) {
            free.add(buffers);
            throw new InferenceException("ONNX Runtime could not make the input tensors of a batch of " + rows.size() + " rows of "
                    + spec.name() + ": " + e.getMessage(), e);
        } catch (RuntimeException | OutOfMemoryError e) {
            free.add(buffers);
            throw e;
        }
    }

    /** A batch padded into one set of buffers; closing it hands the set back. */
    private final class Prepared implements Batch {
        final TokenBatch tokens;
        final TokenBatch.Buffers buffers;
        private boolean closed;

        Prepared(TokenBatch tokens, TokenBatch.Buffers buffers) {
            this.tokens = tokens;
            this.buffers = buffers;
        }

        @Override
        public List<Encoded> rows() {
            return tokens.sequences();
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                tokens.close();
                free.add(buffers);
            }
        }
    }

    @Override
    public float[][] run(Batch batch) {
        if (!(batch instanceof Prepared prepared) || prepared.closed) {
            return run(batch.rows());
        }
        TokenBatch tokens = prepared.tokens;
        try (OrtSession.RunOptions runOptions = new OrtSession.RunOptions()) {
            running.add(runOptions);
            try {
                long[] pinnedShape = pinnedShape(tokens);
                if (pinnedShape == null) {
                    try (OrtSession.Result result = model.run(tokens.tensors(), outputName, runOptions)) {
                        OnnxTensor tensor = (OnnxTensor) result.get(outputName).orElseThrow();
                        // getFloatBuffer copies the whole output: only taken when the output cannot be pinned.
                        return read(tensor.getInfo().getShape(), tensor.getFloatBuffer(), tokens);
                    }
                }
                FloatBuffer out = prepared.buffers.output(Math.toIntExact(product(pinnedShape)));
                try (OnnxTensor pinned = OnnxTensor.createTensor(OnnxModel.environment(), out, pinnedShape)) {
                    model.run(tokens.tensors(), Map.of(outputName, pinned), runOptions).close();
                    // Read in place: ONNX Runtime wrote into our direct buffer, nothing was copied back.
                    return read(pinnedShape, out, tokens);
                }
            } finally {
                // Under the lock cancelRunning holds: once removed, no setTerminate can reach these options, which the
                // try-with-resources frees next (a native call on freed options could crash the JVM).
                synchronized (running) {
                    running.remove(runOptions);
                }
            }
        } catch (OrtException e) {
            throw new InferenceException("ONNX Runtime failed on a batch of " + tokens.rows() + " rows of " + spec.name()
                    + ": " + e.getMessage(), e);
        }
    }

    private float[][] read(long[] shape, FloatBuffer flat, TokenBatch tokens) {
        return spec.kind() == ModelKind.BI_ENCODER ? pool(shape, flat, tokens) : logits(shape, flat, tokens.rows());
    }

    private static long product(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * The output's shape for this batch when every dimension other than batch (and sequence, for token
     * embeddings) is fixed in the graph and the output is fp32, so it can be written into our buffer;
     * else null. Dimensions: [batch] or [batch, labels] for rerankers, [batch, hidden] or
     * [batch, seq, hidden] for bi-encoders.
     */
    private long[] pinnedShape(TokenBatch tokens) {
        if (declaredShape == null) {
            return null;
        }
        long[] shape = declaredShape.clone();
        shape[0] = tokens.rows();
        if (shape.length == 3) {
            shape[1] = tokens.width();
        }
        for (long d : shape) {
            if (d <= 0) {
                return null;
            }
        }
        return shape;
    }

    /** ONNX Runtime checks the terminate flag between operators: a run stuck inside one kernel may not stop. */
    @Override
    public void cancelRunning() {
        synchronized (running) {
            for (OrtSession.RunOptions runOptions : running) {
                try {
                    runOptions.setTerminate(true);
                } catch (OrtException | IllegalStateException e) {
                    // Not expected (the options are still open while in the set), and nothing to stop if so.
                }
            }
        }
    }

    private float[][] logits(long[] shape, FloatBuffer flat, int rows) {
        if (!(shape.length == 2 && shape[0] == rows) && !(shape.length == 1 && shape[0] == rows)) {
            throw new ModelLoadException(model.file() + ": output '" + outputName + "' has shape " + Arrays.toString(shape)
                    + "; a reranker must return [batch, labels] (or [batch])");
        }
        int labels = shape.length == 2 ? (int) shape[1] : 1;
        if (spec.labelIndex() >= labels) {
            throw new ModelLoadException(model.file() + " returns " + labels + " logits per pair but label_index is " + spec.labelIndex());
        }
        float[][] out = new float[rows][labels];
        for (int r = 0; r < rows; r++) {
            flat.get(out[r]);
        }
        return out;
    }

    /** Reads only the positions pooling needs, straight from the flat buffer: no [batch, seq, hidden] array. */
    private float[][] pool(long[] shape, FloatBuffer flat, TokenBatch batch) {
        int rows = batch.rows();
        if (shape.length == 2 && shape[0] == rows) {
            float[][] out = new float[rows][(int) shape[1]];
            for (int r = 0; r < rows; r++) {
                flat.get(out[r]);
            }
            return out;
        }
        if (shape.length != 3 || shape[0] != rows || shape[1] != batch.width()) {
            throw new ModelLoadException(model.file() + ": output '" + outputName + "' has shape " + Arrays.toString(shape)
                    + "; a bi-encoder must return [batch, seq, hidden] token embeddings or [batch, hidden] sentence embeddings");
        }
        int width = batch.width();
        int hidden = (int) shape[2];
        float[][] out = new float[rows][hidden];
        for (int r = 0; r < rows; r++) {
            if (spec.pooling() == Pooling.CLS) {
                // The first real token: with left padding it is not at position 0.
                int first = 0;
                while (batch.mask(r, first) == 0) {
                    first++;
                }
                flat.get((r * width + first) * hidden, out[r]);
            } else {
                int count = 0;
                for (int t = 0; t < width; t++) {
                    if (batch.mask(r, t) == 1) {
                        count++;
                        int base = (r * width + t) * hidden;
                        for (int h = 0; h < hidden; h++) {
                            out[r][h] += flat.get(base + h);
                        }
                    }
                }
                for (int h = 0; h < hidden; h++) {
                    out[r][h] /= Math.max(count, 1);
                }
            }
        }
        return out;
    }

    String executionProvider() {
        return model.executionProvider();
    }

    @Override
    public void close() {
        model.close();
    }
}
