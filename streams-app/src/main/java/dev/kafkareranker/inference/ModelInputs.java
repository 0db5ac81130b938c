package dev.kafkareranker.inference;

import ai.onnxruntime.OrtException;
import dev.kafkareranker.model.ModelLoadException;
import java.util.Set;
import java.util.TreeSet;

/** Checks of a session's inputs and outputs against what the scorers feed and read. */
final class ModelInputs {

    private static final Set<String> FED = Set.of(TokenBatch.INPUT_IDS, TokenBatch.ATTENTION_MASK, TokenBatch.TOKEN_TYPE_IDS);

    private ModelInputs() {
    }

    /** Fails when the session wants an input this pipeline cannot give (position ids, past key values...). */
    static void check(OnnxModel model) {
        Set<String> unknown = new TreeSet<>(model.inputNames());
        unknown.removeAll(FED);
        if (!unknown.isEmpty() || !model.takes(TokenBatch.INPUT_IDS)) {
            throw new ModelLoadException(model.file() + " takes inputs " + new TreeSet<>(model.inputNames())
                    + "; this pipeline feeds input_ids, attention_mask and token_type_ids (export without past key values"
                    + " or position ids, e.g. with tools/ export)");
        }
    }

    /** The output named {@code preferred} if there is one, else the only output. */
    static String outputName(OnnxModel model, String... preferred) {
        try {
            Set<String> outputs = model.outputNames();
            for (String name : preferred) {
                if (outputs.contains(name)) {
                    return name;
                }
            }
            if (outputs.size() == 1) {
                return outputs.iterator().next();
            }
            throw new ModelLoadException(model.file() + " has outputs " + model.describeOutputs() + " and none is named "
                    + String.join(" or ", preferred));
        } catch (OrtException e) {
            throw new ModelLoadException("Cannot read the outputs of " + model.file() + ": " + e.getMessage(), e);
        }
    }
}
