package dev.kafkareranker.bench;

import dev.kafkareranker.avro.RetrievalCandidate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * A fixed, seeded benchmark workload: Q queries with C candidates each. Words are drawn from the MED
 * collection's abstracts when ../shared/data/med is at hand (medical vocabulary, realistic word
 * pieces), else from a built-in list; passage lengths follow a log-normal spread around 60 words
 * (8 to 300), as retrieved passages do.
 */
record Workload(List<Query> queries) {

    record Query(String id, String text, List<String> passages) {}

    private static final String FALLBACK = "the seasons are caused by the tilt of earth axis vaccines train immune system"
            + " cells antibodies kafka transactions commit offsets exactly once iron deficiency anemia fatigue cats purr"
            + " larynx gpu latency batching half precision patients treatment blood pressure clinical study results";

    static Workload generate(long seed, int queries, int candidates, Optional<Path> medDir) {
        String[] words = vocabulary(medDir);
        Random random = new Random(seed);
        List<Query> out = new ArrayList<>(queries);
        for (int q = 0; q < queries; q++) {
            List<String> passages = new ArrayList<>(candidates);
            for (int c = 0; c < candidates; c++) {
                int length = (int) Math.round(Math.exp(Math.log(60) + 0.6 * random.nextGaussian()));
                passages.add(sentence(random, words, Math.max(8, Math.min(300, length))));
            }
            out.add(new Query("bench-q" + q, sentence(random, words, 4 + random.nextInt(9)), passages));
        }
        return new Workload(out);
    }

    private static String[] vocabulary(Optional<Path> medDir) {
        if (medDir.isPresent() && Files.isRegularFile(medDir.get().resolve("MED.ALL"))) {
            try {
                String text = Files.readString(medDir.get().resolve("MED.ALL"), StandardCharsets.US_ASCII);
                String[] words = text.replaceAll("\\.[IW][^\\n]*", " ").trim().split("\\s+");
                if (words.length > 1000) {
                    return words;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return FALLBACK.split(" ");
    }

    private static String sentence(Random random, String[] words, int length) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < length; i++) {
            out.append(i == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
        }
        return out.toString();
    }

    /** The workload as the raw runner takes it: one request per query, passages in order. */
    List<dev.kafkareranker.inference.RawRunner.Request> requests() {
        List<dev.kafkareranker.inference.RawRunner.Request> out = new ArrayList<>(queries.size());
        for (Query q : queries) {
            out.add(new dev.kafkareranker.inference.RawRunner.Request(q.text(), q.passages()));
        }
        return out;
    }

    int pairs() {
        return queries.stream().mapToInt(q -> q.passages().size()).sum();
    }

    List<RetrievalCandidate> candidates(Query query) {
        List<RetrievalCandidate> out = new ArrayList<>(query.passages().size());
        for (int i = 0; i < query.passages().size(); i++) {
            out.add(RetrievalCandidate.newBuilder()
                    .setQueryId(query.id())
                    .setQuery(query.text())
                    .setDocId(query.id() + "-d" + i)
                    .setText(query.passages().get(i))
                    .setRetrievalRank(i + 1)
                    .setCandidateCount(query.passages().size())
                    .setTopK(10)
                    .setMetadata(new HashMap<>())
                    .build());
        }
        return out;
    }
}
