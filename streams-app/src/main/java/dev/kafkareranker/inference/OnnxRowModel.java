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

    OnnxRowModel(ModelSpec spec, OnnxModel model) {
        this.spec = spec;
        this.model = model;
        this.typeIds = model.takes(TokenBatch.TOKEN_TYPE_IDS);
        this.outputName = spec.kind() == ModelKind.BI_ENCODER
                ? ModelInputs.outputName(model, "last_hidden_state", "token_embeddings", "sentence_embedding")
                : ModelInputs.outputName(model, "logits");
        checkOutputRank();
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
        try (OrtSession.RunOptions runOptions = new OrtSession.RunOptions()) {
            running.add(runOptions);
            try (TokenBatch batch = new TokenBatch(rows, spec.padTokenId(), spec.padLeft(), typeIds);
                 OrtSession.Result result = model.run(batch.tensors(), runOptions)) {
                OnnxTensor tensor = (OnnxTensor) result.get(outputName).orElseThrow();
                return spec.kind() == ModelKind.BI_ENCODER ? pool(tensor, batch) : logits(tensor, batch.rows());
            } finally {
                running.remove(runOptions);
            }
        } catch (OrtException e) {
            throw new InferenceException("ONNX Runtime failed on a batch of " + rows.size() + " rows of " + spec.name()
                    + ": " + e.getMessage(), e);
        }
    }

    /** ONNX Runtime checks the terminate flag between operators: a run stuck inside one kernel may not stop. */
    @Override
    public void cancelRunning() {
        for (OrtSession.RunOptions runOptions : running) {
            try {
                runOptions.setTerminate(true);
            } catch (OrtException | IllegalStateException e) {
                // Finished and closed in between: nothing left to stop.
            }
        }
    }

    private float[][] logits(OnnxTensor tensor, int rows) {
        long[] shape = tensor.getInfo().getShape();
        if (!(shape.length == 2 && shape[0] == rows) && !(shape.length == 1 && shape[0] == rows)) {
            throw new ModelLoadException(model.file() + ": output '" + outputName + "' has shape " + Arrays.toString(shape)
                    + "; a reranker must return [batch, labels] (or [batch])");
        }
        int labels = shape.length == 2 ? (int) shape[1] : 1;
        if (spec.labelIndex() >= labels) {
            throw new ModelLoadException(model.file() + " returns " + labels + " logits per pair but label_index is " + spec.labelIndex());
        }
        FloatBuffer flat = tensor.getFloatBuffer();
        float[][] out = new float[rows][labels];
        for (int r = 0; r < rows; r++) {
            flat.get(out[r]);
        }
        return out;
    }

    private float[][] pool(OnnxTensor tensor, TokenBatch batch) {
        long[] shape = tensor.getInfo().getShape();
        FloatBuffer flat = tensor.getFloatBuffer();
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
        long[] mask = batch.mask();
        float[][] out = new float[rows][hidden];
        for (int r = 0; r < rows; r++) {
            if (spec.pooling() == Pooling.CLS) {
                // The first real token: with left padding it is not at position 0.
                int first = 0;
                while (mask[r * width + first] == 0) {
                    first++;
                }
                flat.get((r * width + first) * hidden, out[r]);
            } else {
                int count = 0;
                for (int t = 0; t < width; t++) {
                    if (mask[r * width + t] == 1) {
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
