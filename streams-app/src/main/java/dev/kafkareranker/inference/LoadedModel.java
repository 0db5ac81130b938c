package dev.kafkareranker.inference;

import dev.kafkareranker.model.ModelSpec;

/**
 * One model version's parts, opened from its directory: the ONNX Runtime session and the row model around
 * it, the tokenizer, the scoring method of its kind, and the batching options for the device the session
 * actually opened on ({@code device=auto} may have fallen back to the CPU). The engine and the benchmark's
 * raw runner both start from it. Opening is all or nothing: a failure part-way (inputs the pipeline cannot
 * feed, an output of the wrong rank, a tokenizer that does not load) closes what had opened.
 *
 * @param file    the ONNX file the session loaded (the variant decides the element size the batch sizer plans with)
 * @param options the options resolved for the session's execution provider
 */
record LoadedModel(ModelSpec spec, OnnxRowModel rowModel, TextEncoder encoder, ScoringMethod method, String executionProvider,
                   java.nio.file.Path file, InferenceOptions options, String describe) implements AutoCloseable {

    static LoadedModel open(ModelSpec spec, InferenceOptions options) {
        UsageTracking.optOut();
        OnnxModel session = OnnxModel.open(spec, options);
        OnnxRowModel rowModel = null;
        TextEncoder encoder = null;
        try {
            ModelInputs.check(session);
            rowModel = new OnnxRowModel(spec, session);
            encoder = new TextEncoder(spec);
            String describe = "loaded from " + session.file() + " on " + session.executionProvider() + "; inputs " + session.inputNames()
                    + "; max length " + encoder.maxLength() + " tokens (from " + spec.maxLengthSource() + "); "
                    + spec.longDocuments().describe();
            return new LoadedModel(spec, rowModel, encoder, Scorers.method(spec, encoder), session.executionProvider(), session.file(),
                    options.forProvider(session.executionProvider()), describe);
        } catch (RuntimeException | Error e) {
            closeQuietly(encoder, e);
            // The row model owns the session once made; before that the session is closed alone.
            closeQuietly(rowModel != null ? rowModel : session, e);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable part, Throwable failure) {
        if (part == null) {
            return;
        }
        try {
            part.close();
        } catch (Exception | Error e) {
            failure.addSuppressed(e);
        }
    }

    /** Closes the session and the tokenizer; only when nothing uses them (see {@link ModelReferences}). */
    @Override
    public void close() {
        try {
            rowModel.close();
        } finally {
            encoder.close();
        }
    }
}
