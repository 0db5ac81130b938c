package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kafkareranker.model.ModelDirectory;
import dev.kafkareranker.model.ModelSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batch prepared while another waits to run keeps its own buffers: the engine pads the next batch while
 * the current one runs, and reused direct buffers must never mix the two. Real session, real tokenizer.
 */
class PreparedBatchTest {

    private static void sameOutputsPreparedAheadAsAlone(String fixture) {
        ModelSpec spec = ModelDirectory.load(Path.of("..", "tools", "fixtures", fixture));
        InferenceOptions options = InferenceOptions.defaults().withDevice(Device.parse("cpu"));
        try (TextEncoder encoder = new TextEncoder(spec);
             OnnxRowModel model = new OnnxRowModel(spec, OnnxModel.open(spec, options))) {
            ScoringMethod method = Scorers.method(spec, encoder);
            List<Encoded> first = method.encode("what causes anemia", List.of("iron deficiency is a cause", "short")).rows();
            List<Encoded> second = method.encode("kafka transactions",
                    List.of("exactly once commits offsets and records together in one transaction", "a", "commit markers")).rows();
            float[][] firstAlone = model.run(first);
            float[][] secondAlone = model.run(second);

            // Both prepared before either runs, then run in the other order: each reads only its own buffers.
            RowModel.Batch a = model.prepare(first);
            RowModel.Batch b = model.prepare(second);
            float[][] secondAhead = model.run(b);
            b.close();
            // b's buffers are free again: a third batch reuses them while a still waits.
            RowModel.Batch c = model.prepare(second);
            float[][] firstAhead = model.run(a);
            a.close();
            float[][] secondAgain = model.run(c);
            c.close();

            // Same rows at the same padded width run the same kernels: the outputs are bit-identical, hence no tolerance.
            assertEquals(first.size(), firstAhead.length);
            for (int i = 0; i < first.size(); i++) {
                assertArrayEquals(firstAlone[i], firstAhead[i], 0f, fixture + " row " + i + " of the batch prepared first");
            }
            for (int i = 0; i < second.size(); i++) {
                assertArrayEquals(secondAlone[i], secondAhead[i], 0f, fixture + " row " + i + " of the batch prepared second");
                assertArrayEquals(secondAlone[i], secondAgain[i], 0f, fixture + " row " + i + " in reused buffers");
            }
        }
    }

    @Test
    void crossEncoderBatchesPreparedAheadScoreAsTheyDoAlone() {
        sameOutputsPreparedAheadAsAlone("bert-cross-encoder");
    }

    @Test
    void biEncoderPoolingReadsOnlyItsOwnRowsFromThePinnedOutput() {
        sameOutputsPreparedAheadAsAlone("bi-encoder");
    }
}
