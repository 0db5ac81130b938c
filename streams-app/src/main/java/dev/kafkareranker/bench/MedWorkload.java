package dev.kafkareranker.bench;

import dev.kafkareranker.eval.Bm25Retriever;
import dev.kafkareranker.eval.CollectionFormat;
import dev.kafkareranker.eval.EvalQuery;
import dev.kafkareranker.eval.TestCollection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The peers phase's pairs: MED's real queries, each with its BM25 top candidates from MED's abstracts.
 *
 * <p>The other phases keep {@link Workload}'s seeded word salad (its lengths are what they measure); the
 * peers phase also checks that int8 keeps fp32's top-10 order, which only means something on pairs a
 * reranker can tell apart: real queries against the abstracts a first stage retrieved for them (the issue's
 * own baseline was MED pairs, 212 tokens on average).
 */
final class MedWorkload {

    private MedWorkload() {
    }

    /**
     * The first {@code queries} MED queries (all 30 at most) with BM25's top {@code candidates} abstracts each,
     * or empty when {@code medDir} lacks MED's files.
     */
    static Optional<Workload> load(Optional<Path> medDir, int queries, int candidates) {
        if (medDir.isEmpty() || !Files.isRegularFile(medDir.get().resolve("MED.ALL"))
                || !Files.isRegularFile(medDir.get().resolve("MED.QRY"))) {
            return Optional.empty();
        }
        TestCollection med;
        try {
            med = CollectionFormat.SMART.read(medDir.get()).firstQueries(queries);
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot read MED from " + medDir.get() + ": " + e.getMessage(), e);
        }
        List<Workload.Query> out = new ArrayList<>();
        try (Bm25Retriever bm25 = Bm25Retriever.index(med.documents())) {
            for (EvalQuery q : med.queries()) {
                List<String> passages = new ArrayList<>(candidates);
                for (Bm25Retriever.Hit hit : bm25.search(q.text(), candidates)) {
                    passages.add(med.documents().get(hit.docId()));
                }
                out.add(new Workload.Query("med-q" + q.id(), q.text(), passages));
            }
        }
        return Optional.of(new Workload(out));
    }
}
