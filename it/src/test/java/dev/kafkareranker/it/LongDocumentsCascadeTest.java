package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.kafkareranker.app.RerankerApp;
import dev.kafkareranker.app.RerankerConfig;
import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.inference.InferenceEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Long documents and a cascade through the whole pipeline on a real broker: the BERT cross-encoder fixture (64 tokens a
 * row) in chunk mode with at most 3 chunks a passage, and the LLaMA causal-LM fixture with that cross-encoder as its
 * first stage for its top 2. Queries whose passages need chunking, one whose passage hits max.chunks, and cascade
 * queries: every candidate comes back in exactly one result (none is a dead letter), each entry says what of its passage
 * was read, and each cascade entry which stage ranked it, with the expensive model run on the top 2 of each cascade query
 * only.
 */
class LongDocumentsCascadeTest {

    private static final Path FIXTURES = Path.of("..", "tools", "fixtures").toAbsolutePath();
    private static final String[] WORDS = ("aspirin heart attack risk bleeding dose patients artery blood pressure the of and a"
            + " kidney fatigue iron anemia kafka log offsets seasons earth axis").split(" ");
    private static final int MAX_CHUNKS = 3;
    private static final int TOP_N = 2;
    private static final int CASCADE_CANDIDATES = 5;
    private static final String QUERY = "aspirin heart";
    /** The chunked queries' passages of a third of a window; the others are longer than one. */
    private static final Set<String> ONE_WINDOW = Set.of("chunk-0-d0", "chunk-1-d0", "max-chunks-d1");

    private static TestCluster kafka;

    @BeforeAll
    static void startBroker() {
        kafka = TestCluster.start("it-long-cascade");
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @Test
    void chunkedPassagesCarryTheirProvenanceAndCascadeEntriesTheirStageWithNothingLostOrDuplicated() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String prefix = "long-cascade-" + run;
        Random random = new Random(23);
        List<RetrievalCandidate> candidates = new ArrayList<>();
        try (HuggingFaceTokenizer tokenizer = bertTokenizer()) {
            // The room a row of 64 tokens leaves a passage beside the query and [CLS] q [SEP] p [SEP]. Neighbouring chunks share a
            // quarter of it, so 3 chunks cover two and a half windows: passages of a third of a window fit one, of one and a
            // half take 2 or 3 chunks, of 20 windows more than max.chunks. Lengths are in the cross-encoder's tokens.
            int window = 64 - 3 - tokens(tokenizer, QUERY);
            assertTrue(window >= 30, "the query leaves room for chunks: " + window);
            int shortOne = window / 3;
            int longer = window * 3 / 2;
            query(candidates, "chunk-0", "ce", random, tokenizer, new int[] {shortOne, longer, longer + 5});
            query(candidates, "chunk-1", "ce", random, tokenizer, new int[] {shortOne - 3, longer});
            query(candidates, "max-chunks", "ce", random, tokenizer, new int[] {window * 20, shortOne});
            // Cascades: short passages, so that each stage scores each passage in one row.
            query(candidates, "cascade-0", "llm", random, tokenizer, new int[] {shortOne, shortOne, shortOne, shortOne, shortOne});
            query(candidates, "cascade-1", "llm", random, tokenizer, new int[] {shortOne, shortOne, shortOne, shortOne, shortOne});
        }
        Set<String> queries = new HashSet<>();
        candidates.forEach(c -> queries.add(c.getQueryId()));

        TestApp.Builder setup = TestApp.on(kafka.bootstrapServers(), kafka.registryUrl(), prefix).topics(2, 2).applicationId("it-" + prefix)
                .unset(RerankerConfig.MODEL_DIR)
                .set("models", "ce,llm")
                .set("model.default", "ce")
                .set("model.ce.dir", FIXTURES.resolve("bert-cross-encoder"))
                .set("model.ce.long.documents", "chunk")
                .set("model.ce.max.chunks", MAX_CHUNKS)
                .set("model.llm.dir", FIXTURES.resolve("llama-causal-lm"))
                .set("model.llm.first.stage", "ce")
                .set("model.llm.first.stage.top.n", TOP_N);

        Map<String, RankedResults> results;
        int records;
        List<ConsumerRecord<byte[], byte[]>> deadLetters;
        long expensiveRows;
        try (RerankerApp app = setup.start();
             ResultWatcher watcher = new ResultWatcher(setup.pipeline());
             KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(setup.pipeline())) {
            candidates.forEach(c -> producer.send(new ProducerRecord<>(setup.topics().candidates(), c.getQueryId(), c)));
            producer.flush();
            // Every query's result, then everything the app made of these candidates: a second result or a dead letter
            // is read here, not hoped absent after a quiet spell.
            watcher.awaitQueries(queries.size(), Duration.ofMinutes(3));
            Ledger.toTheEnd(watcher, setup.pipeline(), Duration.ofMinutes(3));
            results = Map.copyOf(watcher.results);
            records = watcher.count();
            deadLetters = watcher.deadLetterRecords();
            expensiveRows = ((InferenceEngine) app.models().slot("llm").currentScorer()).stats().rows();
        }

        // Nothing lost, nothing twice.
        assertEquals(queries.size(), records, "exactly one result record per query");
        assertEquals(queries, results.keySet());
        assertEquals(List.of(), deadLetters, "no candidate is a dead letter");
        Set<String> inResults = new HashSet<>();
        for (RankedResults r : results.values()) {
            assertTrue(r.getComplete(), r.getQueryId());
            r.getResults().forEach(d -> assertTrue(inResults.add(d.getDocId()), "document twice: " + d.getDocId()));
        }
        Set<String> sent = new HashSet<>();
        candidates.forEach(c -> sent.add(c.getDocId()));
        assertEquals(sent, inResults, "every candidate in a result");
        System.out.printf("it: %d candidates in %d queries, %d results holding %d, %d dead letters; expensive model rows %d%n",
                candidates.size(), queries.size(), records, inResults.size(), deadLetters.size(), expensiveRows);

        Map<String, RetrievalCandidate> byDoc = new HashMap<>();
        candidates.forEach(c -> byDoc.put(c.getDocId(), c));
        checkProvenance(results, byDoc);
        checkCascades(results);
        assertEquals(2L * TOP_N, expensiveRows, "the expensive model scored the top " + TOP_N + " of each of the 2 cascade queries, no more");
    }

    /**
     * Each entry says what the model that ranked it read. A cross-encoder entry's tokens scored and cut add up to its
     * passage's tokens (counted by the Hugging Face tokenizer, no special tokens); a passage longer than a window is
     * scored in chunks, at most max.chunks, the rest counted as cut; the best chunk lies inside the passage. A cascade's
     * model entries (the causal LM, which counts the passage's tokens inside its prompt, where the first word may
     * tokenize apart from how it does alone) read their short passages whole, in one row.
     */
    private static void checkProvenance(Map<String, RankedResults> results, Map<String, RetrievalCandidate> byDoc) throws Exception {
        int chunked = 0;
        int capped = 0;
        try (HuggingFaceTokenizer tokenizer = bertTokenizer()) {
            for (RankedResults r : results.values()) {
                for (RankedDocument d : r.getResults()) {
                    String text = byDoc.get(d.getDocId()).getText();
                    int tokens = tokens(tokenizer, text);
                    String what = d.getDocId() + " (" + tokens + " tokens): " + d;
                    assertNotNull(d.getTokensScored(), what);
                    assertTrue(0 <= d.getBestChunkStart() && d.getBestChunkStart() < d.getBestChunkEnd()
                            && d.getBestChunkEnd() <= text.codePointCount(0, text.length()), what);
                    if ("llm".equals(d.getStage())) {
                        assertTrue(d.getTokensScored() > 0 && d.getTokensCut() == 0 && d.getChunks() == 1, what);
                        continue;
                    }
                    assertEquals(tokens, d.getTokensScored() + d.getTokensCut(), what);
                    assertTrue(d.getChunks() >= 1 && d.getChunks() <= MAX_CHUNKS, what);
                    if (r.getQueryId().startsWith("cascade")) {
                        continue;
                    }
                    if (d.getDocId().equals("max-chunks-d0")) {
                        assertEquals(MAX_CHUNKS, d.getChunks(), what);
                        assertTrue(d.getTokensCut() > 0, "the passage beyond " + MAX_CHUNKS + " chunks is cut and counted: " + what);
                        capped++;
                    } else {
                        assertEquals(0, d.getTokensCut(), "a passage within " + MAX_CHUNKS + " chunks is read whole: " + what);
                    }
                    if (ONE_WINDOW.contains(d.getDocId())) {
                        assertEquals(1, d.getChunks(), "a short passage fits one window: " + what);
                    } else {
                        assertTrue(d.getChunks() > 1, "a passage longer than a window is chunked: " + what);
                        chunked++;
                    }
                    assertNull(d.getStage(), "one model scored this query: " + what);
                    assertNull(d.getFirstStageScore(), what);
                }
            }
        }
        assertEquals(4, chunked, "the long passages were chunked");
        assertEquals(1, capped);
    }

    /**
     * A cascade's result: the model's entries (the first stage's best TOP_N) first, then the rest in first-stage order;
     * every entry carries the first stage's score, and a first-stage entry's score is that score.
     */
    private static void checkCascades(Map<String, RankedResults> results) {
        for (String q : List.of("cascade-0", "cascade-1")) {
            RankedResults r = results.get(q);
            List<RankedDocument> docs = r.getResults();
            assertEquals("llm", r.getModel().getName(), "the result names the model the query was routed to, by its served name");
            assertEquals(CASCADE_CANDIDATES, docs.size(), q);
            List<String> stages = docs.stream().map(RankedDocument::getStage).toList();
            assertEquals(List.of("llm", "llm", "ce", "ce", "ce"),
                    stages, q + ": " + docs);
            docs.forEach(d -> assertNotNull(d.getFirstStageScore(), q + ": " + d));
            List<Double> firstStage = docs.stream().map(RankedDocument::getFirstStageScore).toList();
            double lowestPromoted = Math.min(firstStage.get(0), firstStage.get(1));
            for (int i = TOP_N; i < docs.size(); i++) {
                assertTrue(firstStage.get(i) <= lowestPromoted, q + ": the model had the first stage's best " + TOP_N + ": " + docs);
                assertEquals(firstStage.get(i), docs.get(i).getScore(), 0.0, q + ": a first-stage entry keeps its score");
            }
            List<Double> below = firstStage.subList(TOP_N, docs.size());
            assertEquals(below.stream().sorted(Comparator.reverseOrder()).toList(), below, q + ": the rest keep the first stage's order");
            assertTrue(docs.get(0).getScore() >= docs.get(1).getScore(), q + ": the model's entries in its order");
            for (int i = 0; i < docs.size(); i++) {
                assertEquals(i + 1, docs.get(i).getRank());
            }
        }
    }

    /** A query of passages of about {@code passageTokens} tokens each (the cross-encoder's, tokenized alone). */
    private static void query(List<RetrievalCandidate> out, String queryId, String model, Random random, HuggingFaceTokenizer tokenizer,
                              int[] passageTokens) {
        for (int d = 0; d < passageTokens.length; d++) {
            out.add(RetrievalCandidate.newBuilder().setQueryId(queryId).setQuery(QUERY).setDocId(queryId + "-d" + d)
                    .setText(sentence(random, tokenizer, passageTokens[d])).setRetrievalRank(d + 1).setCandidateCount(passageTokens.length)
                    .setModel(model).setMetadata(Map.of()).build());
        }
    }

    /** Random words until the text is {@code tokens} tokens long or one word more. */
    private static String sentence(Random random, HuggingFaceTokenizer tokenizer, int tokens) {
        StringBuilder out = new StringBuilder(WORDS[random.nextInt(WORDS.length)]);
        while (tokens(tokenizer, out.toString()) < tokens) {
            out.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
        }
        return out.toString();
    }

    /** The cross-encoder fixture's tokenizer, as the Hugging Face library loads it, counting a text's own tokens. */
    private static HuggingFaceTokenizer bertTokenizer() throws java.io.IOException {
        return HuggingFaceTokenizer.newInstance(FIXTURES.resolve("bert-cross-encoder"), Map.of("addSpecialTokens", "false", "truncation", "false"));
    }

    private static int tokens(HuggingFaceTokenizer tokenizer, String text) {
        return tokenizer.encode(text).getIds().length;
    }
}
