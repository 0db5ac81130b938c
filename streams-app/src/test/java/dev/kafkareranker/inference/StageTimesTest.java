package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.model.ModelDirectory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine notes where a traced request's time went ({@link StageTimes}) on the real cross-encoder fixture's
 * session and tokenizer: tokenizing, the row queue, and each model batch with what it held; an untraced request
 * carries none.
 */
class StageTimesTest {

    private static final Path MODEL = Path.of("..", "tools", "fixtures", "bert-cross-encoder");
    private static InferenceEngine engine;

    @BeforeAll
    static void open() {
        // Batches of at most 4 rows: a request of 6 passages runs in two.
        engine = Scorers.open(ModelDirectory.load(MODEL), InferenceOptions.defaults().withDevice(Device.parse("cpu")).withBatch(4, 4096)
                .withMaxQueueDelay(Duration.ofMillis(5)).withMaxPaddingRatio(Double.POSITIVE_INFINITY));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static final List<String> PASSAGES = List.of(
            "Kafka keeps records in partitions.",
            "A consumer group shares the partitions of a topic among its members.",
            "Short.",
            "Exactly-once processing writes results and offsets in one transaction, so a crash loses nothing.",
            "Rebalances move partitions between members.",
            "The broker appends each record to its partition's log.");

    @Test
    void aTracedRequestNotesTokenizingQueueingAndEachBatchInOrder() throws Exception {
        StageTimes times = new StageTimes();
        long before = System.nanoTime();
        Scorer.Scoring scoring = engine.scoreQueryAsync("how does kafka store records", PASSAGES, times).get(2, TimeUnit.MINUTES);
        long after = System.nanoTime();
        assertEquals(PASSAGES.size(), scoring.scores().size());

        assertTrue(times.submittedNanos() >= before && times.submittedNanos() <= after, "submitted on the engine's clock");
        assertEquals("CPUExecutionProvider", times.device());
        assertTrue(times.wasTokenized());
        assertTrue(times.submittedNanos() <= times.tokenizeStartNanos(), "tokenized after it was taken");
        assertTrue(times.tokenizeStartNanos() <= times.tokenizeEndNanos());
        assertEquals(PASSAGES.size(), times.rows(), "one row per passage: none is long enough to chunk");
        assertTrue(times.tokens() > 6 * PASSAGES.size(), "each pair holds the query's and its passage's tokens: " + times.tokens());
        assertTrue(times.tokenizeEndNanos() <= times.enqueuedNanos(), "queued once tokenized");

        List<StageTimes.Batch> batches = times.batches();
        assertEquals(2, batches.size(), "six rows in batches of at most four: " + batches);
        assertTrue(times.enqueuedNanos() <= batches.get(0).startNanos(), "the queue ends when its first batch starts");
        long rowsOfOthers = 0;
        for (int i = 0; i < batches.size(); i++) {
            StageTimes.Batch b = batches.get(i);
            assertTrue(b.startNanos() < b.endNanos() && b.endNanos() <= after, b.toString());
            assertTrue(i == 0 || batches.get(i - 1).endNanos() <= b.startNanos(), "batches run one after the other");
            assertTrue(b.paddedTokens() >= b.realTokens(), b.toString());
            assertTrue(b.rows() <= 4, b.toString());
            rowsOfOthers += b.rows();
        }
        assertEquals(PASSAGES.size(), rowsOfOthers, "this request alone: its six rows, each in one batch");
        assertEquals(times.tokens(), batches.stream().mapToLong(StageTimes.Batch::realTokens).sum(), "the batches ran its tokens");
    }

    @Test
    void requestsSharingABatchEachNoteItOnceAndTheBatchHoldsBoth() throws Exception {
        // Two requests of two passages each, queued within the 5 ms delay, share one batch of four rows... unless the
        // worker took the first alone; either way each request notes each batch its rows ran in exactly once.
        StageTimes first = new StageTimes();
        StageTimes second = new StageTimes();
        CompletableFuture<Scorer.Scoring> a = engine.scoreQueryAsync("kafka partitions", PASSAGES.subList(0, 2), first);
        CompletableFuture<Scorer.Scoring> b = engine.scoreQueryAsync("kafka transactions", PASSAGES.subList(3, 5), second);
        a.get(2, TimeUnit.MINUTES);
        b.get(2, TimeUnit.MINUTES);
        for (StageTimes times : List.of(first, second)) {
            assertEquals(1, times.batches().size(), "two rows fit one batch of four: " + times.batches());
            StageTimes.Batch batch = times.batches().get(0);
            assertTrue(batch.rows() == 2 || batch.rows() == 4, batch.toString());
        }
        if (first.batches().get(0).rows() == 4) {
            assertSame(first.batches().get(0), second.batches().get(0), "one batch ran both: the same record for both");
        }
    }

    @Test
    void anUntracedBatchCostsANullCheckPerRowAndNoAllocation() {
        List<QueuedRow> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 32; i++) {
            batch.add(new QueuedRow(new PendingRequest(1), 0, new Encoded(new long[16], new long[16]), 0));
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) {
            StageTimes.ran(batch, i, i + 1);  // warm: the measured calls run compiled
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 20_000; i++) {
            StageTimes.ran(batch, i, i + 1);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        // The bean's own call may allocate a few bytes; a Batch per call would be 20,000 x 40 bytes.
        assertTrue(allocated < 1_000, "bytes allocated by 20,000 untraced batches: " + allocated);
    }

    @Test
    void aRequestRefusedAtOnceNotesNothing() {
        StageTimes times = new StageTimes();
        CompletableFuture<Scorer.Scoring> empty = engine.scoreQueryAsync("kafka", List.of(), times);
        assertTrue(empty.isDone());
        assertEquals(Long.MIN_VALUE, times.submittedNanos(), "no passages: the engine took nothing");
        assertFalse(times.wasTokenized());
        assertTrue(times.batches().isEmpty());
    }
}
