package dev.kafkareranker.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.FakeSchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200,000 candidates through an app whose heap is capped: gathering state lives in RocksDB, not on
 * the heap, so the run completes under -Xmx{@value #HEAP_MB}m with every candidate accounted for.
 */
class BoundedMemoryTest {

    static final int HEAP_MB = 256;
    private static final int QUERIES = 10_000;
    private static final int CANDIDATES = 20;

    @TempDir
    Path dir;

    @Test
    void twoHundredThousandCandidatesRunUnderTheHeapBound() throws Exception {
        try (FakeSchemaRegistryServer fake = FakeSchemaRegistryServer.start();
             TestCluster cluster = TestCluster.start("memory")) {
            TestApp.Builder setup = TestApp.childOn(cluster, fake, "mem").topics(4, 2).applicationId("memory-test")
                    .set("gather.max.wait.ms", 300_000);
            long start = System.nanoTime();
            try (ChildApp app = setup.child(dir, List.of("-Xmx" + HEAP_MB + "m", "-XX:+ExitOnOutOfMemoryError"))) {
                app.startAndAwaitRunning();
                try (KafkaProducer<String, RetrievalCandidate> producer = TestProducers.candidates(setup.pipeline().bootstrap(),
                        setup.pipeline().registryUrl(), Map.of("linger.ms", 20))) {
                    // Queries interleaved in waves, so thousands are pending at once.
                    for (int wave = 0; wave < QUERIES / 1000; wave++) {
                        for (int d = 0; d < CANDIDATES; d++) {
                            for (int q = wave * 1000; q < (wave + 1) * 1000; q++) {
                                producer.send(new ProducerRecord<>("mem.candidates", "q" + q, RetrievalCandidate.newBuilder()
                                        .setQueryId("q" + q).setQuery("what is query " + q).setDocId("q" + q + "-d" + d)
                                        .setText("a passage of some forty words about kafka streams and reranking number " + d
                                                + " for query " + q + " with enough text to weigh something in the state store")
                                        .setCandidateCount(CANDIDATES).setTopK(0).setMetadata(Map.of()).build()));
                            }
                        }
                    }
                }
                Ledger ledger = Ledger.read(setup.pipeline(), QUERIES, Duration.ofMinutes(8));
                System.out.printf("memory: %d candidates, -Xmx%dm, results=%d, dead letters=%d, %.0f s, app alive=%s%n",
                        QUERIES * CANDIDATES, HEAP_MB, ledger.results(), ledger.deadLetters(),
                        (System.nanoTime() - start) / 1e9, app.alive());
                assertTrue(app.alive(), "the app ran out of memory or died; see " + app.log());
                assertEquals(QUERIES, ledger.resultsPerQuery().size());
                assertEquals(0, ledger.queriesWithMoreThanOneResult());
                assertEquals(0, ledger.deadLetters());
                assertEquals(QUERIES * CANDIDATES, ledger.candidatesInResults().size(), "every candidate is in a result");
            }
        }
    }
}
