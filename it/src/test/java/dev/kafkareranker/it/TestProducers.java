package dev.kafkareranker.it;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** How the it tests play the retriever: candidates sent as a producer of the candidates topic would. */
final class TestProducers {

    private TestProducers() {
    }

    /** A producer of candidates to {@code pipeline}'s candidates topic, through its registry (the caller closes it). */
    static KafkaProducer<String, RetrievalCandidate> candidates(Pipeline pipeline) {
        return candidates(pipeline.bootstrap(), pipeline.registryUrl(), Map.of());
    }

    /** A producer of candidates with {@code settings} besides the broker's address (the caller closes it). */
    static KafkaProducer<String, RetrievalCandidate> candidates(String bootstrap, String registryUrl, Map<String, Object> settings) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", registryUrl), false);
        Map<String, Object> props = new java.util.HashMap<>(settings);
        props.put("bootstrap.servers", bootstrap);
        return new KafkaProducer<>(props, new StringSerializer(), serializer);
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
     * A candidate as a writer that left out the required text would write it: a RetrievalCandidate record of query_id
     * {@code queryId}, query "q" and doc_id "d" only, which the app's reader schema cannot read.
     */
    static GenericRecord candidateWithoutText(String queryId) {
        Schema withoutText = SchemaBuilder.record("RetrievalCandidate").namespace("dev.kafkareranker.avro")
                .fields().requiredString("query_id").requiredString("query").requiredString("doc_id").endRecord();
        GenericRecord record = new GenericData.Record(withoutText);
        record.put("query_id", queryId);
        record.put("query", "q");
        record.put("doc_id", "d");
        return record;
    }

    /**
     * {@code queries} queries q0, q1, ... of {@code perQuery} candidates each, interleaved (every query's first
     * candidate, then every query's second, ...) so that many queries are pending at once; the texts are drawn
     * from {@code random} (seeded by the test).
     */
    static List<RetrievalCandidate> interleaved(int queries, int perQuery, Random random) {
        List<RetrievalCandidate> candidates = new ArrayList<>();
        for (int d = 0; d < perQuery; d++) {
            for (int q = 0; q < queries; q++) {
                candidates.add(RetrievalCandidate.newBuilder().setQueryId("q" + q).setQuery("query number " + q)
                        .setDocId("q" + q + "-d" + d).setText("passage " + d + " about " + random.nextInt(1000))
                        .setRetrievalRank(d + 1).setCandidateCount(perQuery).setTopK(0).setMetadata(Map.of()).build());
            }
        }
        return candidates;
    }

    /**
     * {@code candidates} at a steady pace (20, then a 1.2 s pause) from an idempotent producer, counting each in
     * {@code sent}, never past {@code allowed}: it waits there until the test raises it. A test that kills the app
     * at a count ({@link #killPoints}) so meets the stream mid-flow however slow a loaded machine makes a restart.
     */
    static void produceSteadily(Pipeline pipeline, List<RetrievalCandidate> candidates, AtomicInteger sent, AtomicInteger allowed) {
        try (KafkaProducer<String, RetrievalCandidate> producer = candidates(pipeline.bootstrap(), pipeline.registryUrl(),
                Map.of("enable.idempotence", true))) {
            for (RetrievalCandidate c : candidates) {
                if (sent.get() >= allowed.get()) {
                    producer.flush();
                    Await.until("the test to allow more than " + sent.get() + " candidates", Running.PATIENCE,
                            () -> sent.get() < allowed.get());
                }
                producer.send(new ProducerRecord<>(pipeline.topics().candidates(), c.getQueryId(), c));
                if (sent.incrementAndGet() % 20 == 0) {
                    producer.flush();
                    // Pacing, not a synchronisation: the stream's shape, so that the kills meet it mid-flow.
                    Thread.sleep(1_200);
                }
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The counts of candidates sent at which {@code kills} kills land: spread evenly over the first part of a stream
     * of {@code total}, each moved by up to a burst either way ({@code random}, seeded), so kills fall between and
     * within queries; the last leaves a tenth of the stream to a steady instance.
     */
    static int[] killPoints(int total, int kills, Random random) {
        int[] points = new int[kills];
        int span = total * 9 / 10 / (kills + 1);
        for (int k = 0; k < kills; k++) {
            points[k] = Math.max(1, (k + 1) * span + random.nextInt(41) - 20);
        }
        return points;
    }
}
