package dev.kafkareranker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a model directory's files decide, and the errors a user can act on. ONNX files are not opened here. */
class ModelDirectoryTest {

    private static final String BPE_TOKENIZER = """
            {"model": {"type": "BPE", "vocab": {"<s>": 0, "<pad>": 1, "</s>": 2, "a": 3, "b": 4}},
             "added_tokens": [{"id": 0, "content": "<s>"}, {"id": 1, "content": "<pad>"}]}
            """;

    @TempDir
    Path dir;

    private void write(String file, String content) throws IOException {
        Files.writeString(dir.resolve(file), content);
    }

    private void roberta(String config) throws IOException {
        write("model.onnx", "not opened in these tests");
        write("tokenizer.json", BPE_TOKENIZER);
        write("config.json", config);
    }

    @Test
    void oneLabelMeansSigmoidAsSentenceTransformersDecides() throws IOException {
        roberta("""
                {"model_type": "roberta", "num_labels": 1, "vocab_size": 5, "max_position_embeddings": 514, "pad_token_id": 1}""");
        write("tokenizer_config.json", "{\"model_max_length\": 512}");
        ModelSpec spec = ModelDirectory.load(dir);
        assertEquals(ModelKind.CROSS_ENCODER, spec.kind());
        assertEquals(Activation.SIGMOID, spec.activation());
        assertEquals(0, spec.labelIndex());
        assertEquals(512, spec.maxLength(), "RoBERTa's 514 positions hold 512 tokens");
        assertEquals(1, spec.padTokenId());
    }

    @Test
    void theConfiguredActivationWinsAndSentenceTransformersConfigKeyIsRead() throws IOException {
        roberta("""
                {"model_type": "bert", "num_labels": 1, "max_position_embeddings": 128,
                 "sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity"}""");
        assertEquals(Activation.IDENTITY, ModelDirectory.load(dir).activation());
        write("reranker.json", "{\"activation\": \"sigmoid\"}");
        assertEquals(Activation.SIGMOID, ModelDirectory.load(dir).activation());
    }

    @Test
    void maxLengthIsTheSmallestOfTokenizerModelAndRerankerJson() throws IOException {
        roberta("{\"model_type\": \"bert\", \"num_labels\": 1, \"max_position_embeddings\": 512}");
        write("tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}");
        assertEquals(512, ModelDirectory.load(dir).maxLength(), "the tokenizer's 'no limit' marker is ignored");
        write("tokenizer_config.json", "{\"model_max_length\": 256}");
        assertEquals(256, ModelDirectory.load(dir).maxLength());
        write("reranker.json", "{\"max_length\": 128}");
        assertEquals(128, ModelDirectory.load(dir).maxLength());
    }

    @Test
    void aMaxLengthBeyondTheModelIsRefusedNamingTheSettingAndTheLimitsFile() throws IOException {
        roberta("""
                {"model_type": "xlm-roberta", "num_labels": 1, "vocab_size": 5, "max_position_embeddings": 8194, "pad_token_id": 1}""");
        write("tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}");
        ModelSpec spec = ModelDirectory.load(dir);
        assertEquals(8192, spec.maxLength(), "XLM-R positions start after pad_token_id + 1");
        assertTrue(spec.maxLengthSource().contains("config.json max_position_embeddings 8194"), spec.maxLengthSource());

        write("reranker.json", "{\"max_length\": 8193}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(e.getMessage().contains("max_length 8193") && e.getMessage().contains("reranker.json")
                && e.getMessage().contains("8192") && e.getMessage().contains("config.json max_position_embeddings"), e.getMessage());

        write("reranker.json", "{\"max_length\": 1024}");
        spec = ModelDirectory.load(dir);
        assertEquals(1024, spec.maxLength());
        assertTrue(spec.maxLengthSource().startsWith("reranker.json max_length"), spec.maxLengthSource());
    }

    @Test
    void ropeModelsUseAllTheirPositions() throws IOException {
        roberta("""
                {"model_type": "gte", "num_labels": 1, "vocab_size": 5, "max_position_embeddings": 8192, "pad_token_id": 1}""");
        write("tokenizer_config.json", "{\"model_max_length\": 8192}");
        assertEquals(8192, ModelDirectory.load(dir).maxLength(), "no RoBERTa offset for RoPE positions");
    }

    @Test
    void threeLabelNliHeadsNeedALabelIndex() throws IOException {
        roberta("""
                {"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1,
                 "id2label": {"0": "contradiction", "1": "entailment", "2": "neutral"}}""");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(e.getMessage().contains("label_index") && e.getMessage().contains("reranker.json"), e.getMessage());

        write("reranker.json", "{\"label_index\": 1, \"activation\": \"softmax\"}");
        ModelSpec spec = ModelDirectory.load(dir);
        assertEquals(3, spec.numLabels());
        assertEquals(1, spec.labelIndex());
        assertEquals(Activation.SOFTMAX, spec.activation());

        write("reranker.json", "{\"label_index\": 3}");
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("outside 0..2"));
    }

    @Test
    void aDecoderWithoutPadIdIsRefusedNamingBothFiles() throws IOException {
        roberta("{\"model_type\": \"llama\", \"num_labels\": 1, \"max_position_embeddings\": 2048}");
        write("reranker.json", "{\"kind\": \"decoder\", \"query_template\": \"query: {query}\"}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(e.getMessage().contains("pad_token_id") && e.getMessage().contains("reranker.json")
                && e.getMessage().contains("config.json"), e.getMessage());

        write("reranker.json", "{\"kind\": \"decoder\", \"pad_token_id\": 0, \"query_template\": \"query: {query}\","
                + " \"document_template\": \"document: {document}\", \"padding_side\": \"left\"}");
        ModelSpec spec = ModelDirectory.load(dir);
        assertEquals(ModelKind.DECODER, spec.kind());
        assertEquals(0, spec.padTokenId());
        assertTrue(spec.padLeft());
        assertEquals("query: why", spec.formatQuery("why"));
        assertEquals("document: because", spec.formatDocument("because"));
    }

    @Test
    void aTokenizerWhoseIdsExceedTheEmbeddingsIsRefused() throws IOException {
        roberta("{\"model_type\": \"roberta\", \"num_labels\": 1, \"vocab_size\": 4, \"max_position_embeddings\": 66, \"pad_token_id\": 1}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(e.getMessage().contains("vocab_size") && e.getMessage().contains("up to 4"), e.getMessage());
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir.resolve("nope")))
                .getMessage().contains("does not exist"));
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("model.onnx"));
        write("model.onnx", "x");
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("tokenizer.json"));
        write("tokenizer.json", BPE_TOKENIZER);
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("reranker.json"));
        write("config.json", "{not json");
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("not valid JSON"));
    }

    @Test
    void findsVariantsBesideTheModelOrUnderOnnx() throws IOException {
        Files.createDirectories(dir.resolve("onnx"));
        write("onnx/model.onnx", "x");
        write("onnx/model.int8.onnx", "x");
        assertEquals(Optional.of(dir.resolve("onnx/model.onnx")), ModelDirectory.modelFile(dir, ModelDirectory.Variant.FP32));
        assertEquals(Optional.of(dir.resolve("onnx/model.int8.onnx")), ModelDirectory.modelFile(dir, ModelDirectory.Variant.INT8));
        assertEquals(Optional.empty(), ModelDirectory.modelFile(dir, ModelDirectory.Variant.FP16));
    }

    @Test
    void unknownValuesInRerankerJsonAreNamed() throws IOException {
        roberta("{\"model_type\": \"bert\", \"num_labels\": 1, \"max_position_embeddings\": 64}");
        write("reranker.json", "{\"kind\": \"siamese\"}");
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("siamese"));
        write("reranker.json", "{\"activation\": \"tanh\"}");
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("tanh"));
        write("reranker.json", "{\"padding_side\": \"middle\"}");
        assertTrue(assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir)).getMessage().contains("middle"));
    }

    @Test
    void sentenceBertConfigSetsTheTokenizerLengthAsSentenceTransformersDoes() throws IOException {
        // all-MiniLM-L6-v2 as it ships: its tokenizer says 512, sentence-transformers cuts at 256.
        roberta("{\"model_type\": \"bert\", \"num_labels\": 1, \"max_position_embeddings\": 512}");
        write("tokenizer_config.json", "{\"model_max_length\": 512}");
        write("sentence_bert_config.json", "{\"max_seq_length\": 256, \"do_lower_case\": false}");
        ModelSpec spec = ModelDirectory.load(dir);
        assertEquals(256, spec.maxLength());
        assertTrue(spec.maxLengthSource().startsWith("sentence_bert_config.json max_seq_length 256")
                && spec.maxLengthSource().contains("tokenizer_config.json's 512"), spec.maxLengthSource());

        // Its tokenizer arguments' model_max_length comes first, as in sentence-transformers' Transformer module.
        write("sentence_bert_config.json", "{\"max_seq_length\": 256, \"tokenizer_args\": {\"model_max_length\": 200}}");
        assertEquals(200, ModelDirectory.load(dir).maxLength());
        write("sentence_bert_config.json", "{\"processor_kwargs\": {\"model_max_length\": 300}}");
        assertEquals(300, ModelDirectory.load(dir).maxLength());

        // Still bounded by the positions, and reranker.json may only lower it.
        write("sentence_bert_config.json", "{\"max_seq_length\": 4096}");
        assertEquals(512, ModelDirectory.load(dir).maxLength());
        write("sentence_bert_config.json", "{\"max_seq_length\": 256}");
        write("reranker.json", "{\"max_length\": 128}");
        assertEquals(128, ModelDirectory.load(dir).maxLength());
        write("reranker.json", "{\"max_length\": 300}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelDirectory.load(dir));
        assertTrue(e.getMessage().contains("sentence_bert_config.json max_seq_length 256"), e.getMessage());
    }

    @Test
    void theOlderPerArchitectureNamesAreReadAndAFileWithoutALengthLeavesTheTokenizers() throws IOException {
        roberta("""
                {"model_type": "xlm-roberta", "num_labels": 1, "vocab_size": 5, "max_position_embeddings": 514, "pad_token_id": 1}""");
        write("tokenizer_config.json", "{\"model_max_length\": 512}");
        write("sentence_xlm-roberta_config.json", "{\"max_seq_length\": 128}");
        assertEquals(128, ModelDirectory.load(dir).maxLength());
        Files.delete(dir.resolve("sentence_xlm-roberta_config.json"));
        write("sentence_bert_config.json", "{\"do_lower_case\": false}");
        assertEquals(512, ModelDirectory.load(dir).maxLength());
    }

    @Test
    void theActivationIsReadWhereEachSentenceTransformersVersionSavedIt() throws IOException {
        roberta("{\"model_type\": \"bert\", \"num_labels\": 1, \"max_position_embeddings\": 128,"
                + " \"sentence_transformers\": {\"activation_fn\": \"torch.nn.modules.linear.Identity\"}}");
        assertEquals(Activation.IDENTITY, ModelDirectory.load(dir).activation(), "4.x-5.x: config.json");
        write("config_sentence_transformers.json", "{\"activation_fn\": \"torch.nn.modules.activation.Sigmoid\"}");
        assertEquals(Activation.SIGMOID, ModelDirectory.load(dir).activation(), "6.x: config_sentence_transformers.json first");
        write("reranker.json", "{\"activation\": \"identity\"}");
        assertEquals(Activation.IDENTITY, ModelDirectory.load(dir).activation(), "reranker.json wins");
    }

    @Test
    void autoLeavesOutAVariantTheExportJudgedUnfitToServe() throws IOException {
        roberta("{\"model_type\": \"bert\", \"num_labels\": 1, \"max_position_embeddings\": 128}");
        write("model.fp16.onnx", "x");
        write("model.int8.onnx", "x");
        // No verdict recorded (a directory the export did not make): every file is a candidate.
        assertEquals(Optional.of(dir.resolve("model.int8.onnx")), ModelDirectory.autoVariantFile("m", dir, ModelDirectory.Variant.INT8));
        assertEquals(Optional.empty(), ModelDirectory.unfitToServe(dir, ModelDirectory.Variant.INT8));

        write("reranker.json", """
                {"variants": {"fp16": {"fit_to_serve": true, "max_abs_diff": 0.004, "tolerance": 0.01},
                              "int8": {"fit_to_serve": false, "max_abs_diff": 0.106, "tolerance": 0.1}}}""");
        assertEquals(Optional.of(dir.resolve("model.fp16.onnx")), ModelDirectory.autoVariantFile("m", dir, ModelDirectory.Variant.FP16));
        assertEquals(Optional.empty(), ModelDirectory.autoVariantFile("m", dir, ModelDirectory.Variant.INT8));
        String reason = ModelDirectory.unfitToServe(dir, ModelDirectory.Variant.INT8).orElseThrow();
        assertTrue(reason.contains("model.int8.onnx") && reason.contains("0.106") && reason.contains("0.1")
                && reason.contains("reranker.json"), reason);
        // Asked for by name, it is still served (with a warning): the user may have judged its ranking.
        assertEquals(dir.resolve("model.int8.onnx"), ModelDirectory.requestedVariantFile("m", dir, ModelDirectory.Variant.INT8));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> {
            Files.delete(dir.resolve("model.int8.onnx"));
            ModelDirectory.requestedVariantFile("m", dir, ModelDirectory.Variant.INT8);
        });
        assertTrue(e.getMessage().contains("model.int8.onnx") && e.getMessage().contains("inference.model.variant=int8"), e.getMessage());
    }
}
