package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kafkareranker.model.Activation;
import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelSpec;
import dev.kafkareranker.model.Pooling;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bi-encoder graph that pools in the graph returns {@code sentence_embedding} beside
 * {@code last_hidden_state}: the row model reads the pooled output, and a run fetches only that one.
 * The graph is written here as ONNX protobuf bytes (no onnx package exists in this workplace): its two
 * outputs disagree on purpose, so reading the wrong one would show. sentence_embedding = the number of
 * real tokens (ReduceSum of the mask); last_hidden_state = the token ids, so mean pooling it would give the
 * mean id.
 */
class SentenceEmbeddingOutputTest {

    private static final int FLOAT = 1;
    private static final int INT64 = 7;

    @Test
    void aBiEncoderReadsSentenceEmbeddingWhenTheGraphHasIt(@TempDir Path dir) throws Exception {
        for (boolean fixedWidth : List.of(true, false)) {
            Path file = dir.resolve(fixedWidth ? "pinned" : "dynamic").resolve("model.onnx");
            Files.createDirectories(file.getParent());
            Files.write(file, pooledGraph(fixedWidth));
            ModelSpec spec = new ModelSpec("pooled", "1", ModelKind.BI_ENCODER, file, file.resolveSibling("tokenizer.json"), Activation.IDENTITY,
                    0, 0, 16, "test", 0, false, Optional.empty(), Optional.empty(), Pooling.MEAN, true, Optional.empty());
            OnnxModel model = OnnxModel.open(spec, InferenceOptions.defaults().withDevice(Device.parse("cpu")));
            try (OnnxRowModel rows = new OnnxRowModel(spec, model)) {
                float[][] out = rows.run(List.of(new Encoded(new long[] {101, 7, 9, 102}, new long[4]),
                        new Encoded(new long[] {101, 5, 102}, new long[3])));
                assertArrayEquals(new float[] {4}, out[0], "the real tokens of row 0, from sentence_embedding (" + fixedWidth + ")");
                assertArrayEquals(new float[] {3}, out[1], "not the mean of last_hidden_state (71.0 for row 1)");

                try (TokenBatch batch = new TokenBatch(List.of(new Encoded(new long[] {1, 2}, new long[2])), 0, false, false,
                        new TokenBatch.Buffers());
                     ai.onnxruntime.OrtSession.Result result = model.run(batch.tensors(), "sentence_embedding",
                             new ai.onnxruntime.OrtSession.RunOptions())) {
                    assertEquals(1, result.size(), "only the output used is fetched, not last_hidden_state");
                }
            }
        }
    }

    /**
     * input_ids, attention_mask [b, s] int64 → last_hidden_state = Unsqueeze(Cast(ids)) [b, s, 1] and
     * sentence_embedding = ReduceSum(Cast(mask), axes 1, keepdims) [b, 1] (or [b, h] when not fixed), opset 11.
     */
    static byte[] pooledGraph(boolean fixedWidth) {
        ByteArrayOutputStream graph = new ByteArrayOutputStream();
        field(graph, 1, node(List.of("input_ids"), "ids_f", "Cast", attribute("to", FLOAT)));
        field(graph, 1, node(List.of("ids_f"), "last_hidden_state", "Unsqueeze", attributeInts("axes", 2)));
        field(graph, 1, node(List.of("attention_mask"), "mask_f", "Cast", attribute("to", FLOAT)));
        field(graph, 1, node(List.of("mask_f"), "sentence_embedding", "ReduceSum", attributeInts("axes", 1), attribute("keepdims", 1)));
        field(graph, 2, "pooled".getBytes());
        field(graph, 11, valueInfo("input_ids", INT64, "b", "s"));
        field(graph, 11, valueInfo("attention_mask", INT64, "b", "s"));
        field(graph, 12, valueInfo("last_hidden_state", FLOAT, "b", "s", 1));
        field(graph, 12, valueInfo("sentence_embedding", FLOAT, "b", fixedWidth ? 1 : "h"));
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        varintField(model, 1, 7);
        ByteArrayOutputStream opset = new ByteArrayOutputStream();
        field(opset, 1, new byte[0]);
        varintField(opset, 2, 11);
        field(model, 8, opset.toByteArray());
        field(model, 7, graph.toByteArray());
        return model.toByteArray();
    }

    private static byte[] node(List<String> inputs, String output, String op, byte[]... attributes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        inputs.forEach(i -> field(out, 1, i.getBytes()));
        field(out, 2, output.getBytes());
        field(out, 3, (op + "_" + output).getBytes());
        field(out, 4, op.getBytes());
        for (byte[] a : attributes) {
            field(out, 5, a);
        }
        return out.toByteArray();
    }

    private static byte[] attribute(String name, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        field(out, 1, name.getBytes());
        varintField(out, 3, value);
        varintField(out, 20, 2);
        return out.toByteArray();
    }

    private static byte[] attributeInts(String name, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        field(out, 1, name.getBytes());
        varintField(out, 8, value);
        varintField(out, 20, 7);
        return out.toByteArray();
    }

    private static byte[] valueInfo(String name, int elementType, Object... dims) {
        ByteArrayOutputStream shape = new ByteArrayOutputStream();
        for (Object dim : dims) {
            ByteArrayOutputStream d = new ByteArrayOutputStream();
            if (dim instanceof Integer fixed) {
                varintField(d, 1, fixed);
            } else {
                field(d, 2, dim.toString().getBytes());
            }
            field(shape, 1, d.toByteArray());
        }
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        varintField(tensor, 1, elementType);
        field(tensor, 2, shape.toByteArray());
        ByteArrayOutputStream type = new ByteArrayOutputStream();
        field(type, 1, tensor.toByteArray());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        field(out, 1, name.getBytes());
        field(out, 2, type.toByteArray());
        return out.toByteArray();
    }

    /** A length-delimited protobuf field (wire type 2). */
    private static void field(ByteArrayOutputStream out, int number, byte[] bytes) {
        varint(out, ((long) number << 3) | 2);
        varint(out, bytes.length);
        out.writeBytes(bytes);
    }

    /** A varint protobuf field (wire type 0). */
    private static void varintField(ByteArrayOutputStream out, int number, long value) {
        varint(out, (long) number << 3);
        varint(out, value);
    }

    private static void varint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }
}
