package dev.kafkareranker.inference;

import dev.kafkareranker.model.LongDocuments;
import dev.kafkareranker.model.ModelLoadException;
import dev.kafkareranker.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decides which texts a passage is scored as, for every scoring method alike: the passage itself (truncated by
 * the tokenizer, today's behaviour), the part of it {@code max_document_tokens} keeps, or its chunks
 * ({@link DocumentWindows}). The window a chunk gets is what the query's pair leaves of the maximum length,
 * but never less than half of what an empty query would leave: a longer query is cut instead (longest-first
 * truncation cuts the longer text of a pair), so every chunk keeps a useful size.
 */
final class PassageCutter {

    /** A text to score and where it begins in the passage (code points). */
    record Piece(String text, int offset) {}

    /**
     * @param pieces the texts to score, in passage order
     * @param plan   the windows they came from; empty when the passage goes in whole and the tokenizer cuts it
     * @param chunked true when the windows are chunks whose provenance the plan gives; false when the row's own
     *                encoding says what was kept (truncation)
     */
    record Cut(List<Piece> pieces, Optional<DocumentWindows.Plan> plan, boolean chunked) {}

    private final ModelSpec spec;
    private final LongDocuments settings;
    private final TextEncoder encoder;
    private final int smallestWindow;

    /**
     * @param fixedTokens the tokens every row has besides the query's and the passage's: special tokens, templates,
     *                    a causal-lm prompt
     * @param queryShares whether the query's tokens share the row with the passage (not so for bi-encoders)
     */
    PassageCutter(ModelSpec spec, TextEncoder encoder, int fixedTokens, boolean queryShares) {
        this.spec = spec;
        this.settings = spec.longDocuments();
        this.encoder = encoder;
        int room = spec.maxLength() - fixedTokens;
        this.smallestWindow = queryShares ? room / 2 : room;
        if (settings.chunked() && smallestWindow < 1) {
            throw new ModelLoadException(spec.name() + ": max length " + spec.maxLength() + " (" + spec.maxLengthSource() + ") less the "
                    + fixedTokens + " tokens every row needs leaves no window for chunks (" + settings.source("long_documents")
                    + "); raise the max length or set long_documents to truncate");
        }
        if (settings.chunked() && settings.chunkStride().isPresent() && settings.chunkStride().getAsInt() >= smallestWindow) {
            throw new ModelLoadException(spec.name() + ": " + settings.source("chunk_stride") + " = " + settings.chunkStride().getAsInt()
                    + " must be less than " + smallestWindow + ", the smallest window a query leaves for a chunk ("
                    + (queryShares ? "half of " : "") + "max length " + spec.maxLength() + " less " + fixedTokens
                    + " special and template tokens; the default stride is a quarter of the window): lower it or leave it unset");
        }
    }

    /** The window a query whose row takes {@code queryRowTokens} with an empty passage leaves for a chunk. */
    int window(int queryRowTokens) {
        return Math.max(spec.maxLength() - queryRowTokens, smallestWindow);
    }

    /** Whether passages are tokenized alone before they are scored: chunked, capped, or cut at a window by the caller. */
    boolean readsPassagesAlone() {
        return settings.chunked() || settings.maxDocumentTokens().isPresent();
    }

    /** A passage's texts for a query whose window is {@code window} tokens; {@code cutAtWindow} keeps one window even when truncating. */
    Cut cut(String passage, int window, boolean cutAtWindow) {
        if (!settings.chunked() && settings.maxDocumentTokens().isEmpty() && !cutAtWindow) {
            return new Cut(List.of(new Piece(passage, 0)), Optional.empty(), false);
        }
        TextEncoder.Offsets alone = TextEncoder.offsets(encoder.whole(passage, false));
        int[] starts = alone.starts();
        int[] ends = alone.ends();
        int[] text = passage.codePoints().toArray();
        DocumentWindows.Plan plan = settings.chunked()
                ? DocumentWindows.plan(text, starts, ends, window, settings.chunkStride().orElse(window / 4), settings.maxChunks(), settings)
                : DocumentWindows.plan(text, starts, ends, cutAtWindow ? window : Integer.MAX_VALUE, 0, 1, settings);
        List<Piece> pieces = new ArrayList<>(plan.windows().size());
        if (plan.whole()) {
            pieces.add(new Piece(passage, 0));
        } else {
            for (DocumentWindows.Window w : plan.windows()) {
                pieces.add(new Piece(slice(passage, w.start(), w.end()), w.start()));
            }
        }
        return new Cut(pieces, Optional.of(plan), settings.chunked());
    }

    /** The passage's tokens, tokenized alone: what a truncated passage's cut is counted against. */
    int tokensAlone(String passage) {
        return encoder.whole(passage, false).getIds().length;
    }

    /** Characters {@code [start, end)} of {@code text}, counted in code points as the tokenizer's offsets are. */
    static String slice(String text, int start, int end) {
        int from = text.offsetByCodePoints(0, start);
        return text.substring(from, text.offsetByCodePoints(from, end - start));
    }

    /**
     * Provenance of a passage whose one row the tokenizer may have cut: what of it the row kept, against all of its
     * tokens (from the plan when there was one; else, when the row was cut, {@code all}, else what was kept).
     */
    EncodedRequest.PassageRows truncated(int firstRow, Cut cut, DocumentText.Kept kept, boolean rowCut, java.util.function.IntSupplier all) {
        int total = cut.plan().map(DocumentWindows.Plan::tokens).orElseGet(() -> rowCut ? all.getAsInt() : kept.tokens());
        return new EncodedRequest.PassageRows(firstRow, new int[] {kept.start()}, new int[] {kept.end()}, Math.min(kept.tokens(), total),
                Math.max(0, total - kept.tokens()), false);
    }

    /** Provenance of a passage scored in chunks, one row each from {@code firstRow}. */
    static EncodedRequest.PassageRows chunked(int firstRow, DocumentWindows.Plan plan) {
        int chunks = plan.windows().size();
        int[] starts = new int[chunks];
        int[] ends = new int[chunks];
        for (int c = 0; c < chunks; c++) {
            starts[c] = plan.windows().get(c).start();
            ends[c] = plan.windows().get(c).end();
        }
        return new EncodedRequest.PassageRows(firstRow, starts, ends, plan.scored(), plan.cut(), plan.chunksCut());
    }
}
