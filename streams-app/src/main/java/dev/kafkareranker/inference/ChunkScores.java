package dev.kafkareranker.inference;

import dev.kafkareranker.model.LongDocuments.ChunkPooling;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * One score per passage from its rows' scores: the chunks pooled as the model's {@code chunk_pooling} says,
 * with the provenance of the passage (what was read, what was cut, and the chunk that made the score).
 */
final class ChunkScores {

    private ChunkScores() {
    }

    /**
     * @param rowScore the score of one row, by its index in the request
     */
    static List<Score> pool(EncodedRequest request, IntFunction<Score> rowScore, ChunkPooling pooling) {
        List<Score> out = new ArrayList<>(request.passages().size());
        for (EncodedRequest.PassageRows passage : request.passages()) {
            int chunks = passage.chunks();
            Score[] scores = new Score[chunks];
            int best = 0;
            for (int c = 0; c < chunks; c++) {
                scores[c] = rowScore.apply(passage.firstRow() + c);
                // The first of equal scores, as Python's max() and numpy's argmax pick.
                if (scores[c].score() > scores[best].score()) {
                    best = c;
                }
            }
            double logit;
            double score;
            switch (pooling) {
                case MAX -> {
                    logit = scores[best].logit();
                    score = scores[best].score();
                }
                case FIRST -> {
                    best = 0;
                    logit = scores[0].logit();
                    score = scores[0].score();
                }
                default -> {
                    double logits = 0;
                    double sum = 0;
                    for (Score s : scores) {
                        logits += s.logit();
                        sum += s.score();
                    }
                    logit = logits / chunks;
                    score = sum / chunks;
                }
            }
            out.add(new Score(logit, score, Optional.of(new Provenance(passage.tokensScored(), passage.tokensCut(), chunks,
                    passage.starts()[best], passage.ends()[best]))));
        }
        return out;
    }
}
