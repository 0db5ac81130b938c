package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.kafkareranker.model.BundledModel;
import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelKind;
import dev.kafkareranker.model.ModelSpec;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bundled bi-encoder's scores against an independent computation: each text embedded alone by a
 * plain ONNX Runtime session (no batching, no padding), CLS-pooled, and compared by cosine. Agreement
 * proves batching, padding, pooling and the query template all behave.
 */
class BundledModelScoringTest {

    private static final String QUERY = "what causes the seasons on earth";
    private static final List<String> PASSAGES = List.of(
            "The seasons are caused by the tilt of Earth's rotational axis.",
            "Seasonal menus change with the produce available each month.",
            "Earth orbits the Sun once every 365.25 days, which is why leap years exist, and this passage is made"
                    + " much longer than the others so that batches holding it must pad the short ones considerably.",
            "Winter.",
            "When the northern hemisphere is tilted toward the Sun it receives more direct sunlight.");

    private static Path dir;
    private static ModelSpec spec;

    @BeforeAll
    static void extract() {
        dir = BundledModel.extract();
        spec = ModelDirectory.load(dir);
    }

    @AfterAll
    static void done() {
        // Temp files are deleted on exit.
    }

    @Test
    void theBundledModelIsACosineBiEncoderWithClsPooling() {
        assertEquals(ModelKind.BI_ENCODER, spec.kind());
        assertEquals(512, spec.maxLength());
        assertEquals(BundledModel.NAME, spec.name());
    }

    @Test
    void scoresEqualCosinesOfEmbeddingsComputedOneTextAtATime() throws Exception {
        List<Double> expected = independentCosines();
        // One row a batch: the model sees exactly what the independent computation fed it.
        InferenceOptions options = InferenceOptions.defaults().withDevice(Device.parse("cpu")).withBatch(1, 100_000);
        try (Scorer scorer = Scorers.open(spec, options)) {
            List<Score> scores = scorer.score(QUERY, PASSAGES);
            assertEquals(PASSAGES.size(), scores.size());
            for (int i = 0; i < PASSAGES.size(); i++) {
                assertEquals(expected.get(i), scores.get(i).score(), 1e-5, "passage " + i);
                assertEquals(scores.get(i).score(), scores.get(i).logit(), 0.0, "a bi-encoder's logit is its cosine");
            }
            assertTrue(scores.get(0).score() > scores.get(1).score(), "the answering passage outscores the word-sharing one");
        }
    }

    /**
     * The bundled file is dynamically quantized: each MatMul quantizes its activations with one scale
     * for the whole batch, so which rows share a batch moves scores by up to about 1e-2. The batching
     * path is proven exact to 1e-4 on the fp32 fixtures (CrossEncoderParityTest); here it must stay
     * within that quantization noise and keep the ranking.
     */
    @Test
    void batchedScoresStayWithinQuantizationNoiseOfOneTextAtATime() throws Exception {
        List<Double> expected = independentCosines();
        InferenceOptions options = InferenceOptions.defaults().withDevice(Device.parse("cpu")).withBatch(2, 64);
        try (Scorer scorer = Scorers.open(spec, options)) {
            List<Score> scores = scorer.score(QUERY, PASSAGES);
            for (int i = 0; i < PASSAGES.size(); i++) {
                System.out.printf("passage %d: alone %.6f batched %.6f%n", i, expected.get(i), scores.get(i).score());
                assertEquals(expected.get(i), scores.get(i).score(), 2e-2, "passage " + i);
            }
            assertEquals(order(expected), order(scores.stream().map(Score::score).toList()));
        }
    }

    private static List<Integer> order(List<Double> scores) {
        return java.util.stream.IntStream.range(0, scores.size()).boxed()
                .sorted((a, b) -> Double.compare(scores.get(b), scores.get(a))).toList();
    }

    private static List<Double> independentCosines() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of());
             OrtSession session = env.createSession(dir.resolve("model.onnx").toString(), new OrtSession.SessionOptions())) {
            float[] query = clsEmbedding(env, session, tokenizer.encode(
                    "Represent this sentence for searching relevant passages: " + QUERY));
            List<Double> out = new ArrayList<>();
            for (String passage : PASSAGES) {
                float[] p = clsEmbedding(env, session, tokenizer.encode(passage));
                double dot = 0;
                double nq = 0;
                double np = 0;
                for (int i = 0; i < p.length; i++) {
                    dot += query[i] * p[i];
                    nq += query[i] * query[i];
                    np += p[i] * p[i];
                }
                out.add(dot / Math.sqrt(nq * np));
            }
            return out;
        }
    }

    private static float[] clsEmbedding(OrtEnvironment env, OrtSession session, Encoding e) throws Exception {
        long[] shape = {1, e.getIds().length};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape));
        inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape));
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape));
        try (OrtSession.Result result = session.run(inputs)) {
            float[][][] hidden = (float[][][]) result.get("last_hidden_state").orElseThrow().getValue();
            return hidden[0][0];
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }
}
