package dev.kafkareranker.it;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** How the it tests play the retriever: candidates sent as a producer of the candidates topic would. */
final class TestProducers {

    private TestProducers() {
    }

    /**
     * {@code queries} queries PREFIXn of {@code perQuery} candidates each (candidate_count set, keyed by
     * query_id), flushed; returns their doc_ids.
     */
    static Set<String> sendQueries(KafkaProducer<String, RetrievalCandidate> producer, String topic, String prefix, int queries,
                                   int perQuery) {
        Set<String> docs = new HashSet<>();
        for (int q = 0; q < queries; q++) {
            String queryId = prefix + q;
            for (int d = 0; d < perQuery; d++) {
                String docId = queryId + "-d" + d;
                docs.add(docId);
                producer.send(new ProducerRecord<>(topic, queryId, RetrievalCandidate.newBuilder().setQueryId(queryId)
                        .setQuery("what is kafka " + queryId).setDocId(docId).setText("kafka is a distributed log, passage " + docId)
                        .setCandidateCount(perQuery).setMetadata(Map.of()).build()));
            }
        }
        producer.flush();
        return docs;
    }

    /**
     * {@code candidates} at a steady pace (20, then a 1.2 s pause) from an idempotent producer, counting
     * each in {@code sent}, so that kills land between and within queries.
     */
    static void produceSteadily(String bootstrap, String registryUrl, String topic, List<RetrievalCandidate> candidates,
                                AtomicInteger sent) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", registryUrl), false);
        try (KafkaProducer<String, RetrievalCandidate> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", bootstrap, "enable.idempotence", true), new StringSerializer(), serializer)) {
            for (RetrievalCandidate c : candidates) {
                producer.send(new ProducerRecord<>(topic, c.getQueryId(), c));
                if (sent.incrementAndGet() % 20 == 0) {
                    producer.flush();
                    try {
                        Thread.sleep(1_200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }
}
