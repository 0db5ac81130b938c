package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.inference.Score;
import dev.kafkareranker.inference.Stage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Orders scored candidates deterministically: finite scores first; in a cascade, the model's entries above the
 * first stage's alone (their scores are on different scales); then score descending, retrieval rank, doc id.
 * Each entry carries what of its passage was read and, in a cascade, its stage.
 */
final class Ranking {

    private record Scored(RetrievalCandidate candidate, Score score) {}

    private static final Comparator<Scored> ORDER = Comparator
            // A NaN or infinite score is a model fault, never the best document: such rows rank last (false sorts first).
            .comparing((Scored s) -> !Double.isFinite(s.score().score()))
            // Scored by a first stage alone: below every entry its model scored (false sorts first).
            .thenComparing((Scored s) -> s.score().stage().map(stage -> !stage.finalStage()).orElse(false))
            .thenComparing(Comparator.comparingDouble((Scored s) -> s.score().score()).reversed())
            // A candidate without a retrieval rank sorts after those with one.
            .thenComparing(s -> s.candidate().getRetrievalRank(), Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparing(s -> s.candidate().getDocId());

    private Ranking() {
    }

    /** The best {@code topK} (all when topK is not positive), ranked from 1. */
    static List<RankedDocument> rank(List<RetrievalCandidate> candidates, List<Score> scores, int topK) {
        List<Scored> scored = new ArrayList<>(candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            scored.add(new Scored(candidates.get(i), scores.get(i)));
        }
        scored.sort(ORDER);
        int keep = topK > 0 ? Math.min(topK, scored.size()) : scored.size();
        List<RankedDocument> out = new ArrayList<>(keep);
        for (int i = 0; i < keep; i++) {
            out.add(document(scored.get(i), i + 1));
        }
        return out;
    }

    private static RankedDocument document(Scored s, int rank) {
        RankedDocument.Builder doc = RankedDocument.newBuilder()
                .setDocId(s.candidate().getDocId())
                .setScore(s.score().score())
                .setLogit(s.score().logit())
                .setRank(rank)
                .setRetrievalRank(s.candidate().getRetrievalRank())
                .setRetrievalScore(s.candidate().getRetrievalScore())
                .setMetadata(s.candidate().getMetadata());
        s.score().provenance().ifPresent(p -> doc.setTokensScored(p.tokensScored()).setTokensCut(p.tokensCut()).setChunks(p.chunks())
                .setBestChunkStart(p.start()).setBestChunkEnd(p.end()));
        s.score().stage().ifPresent((Stage stage) -> doc.setStage(stage.model()).setFirstStageScore(stage.firstStageScore()));
        return doc.build();
    }
}
