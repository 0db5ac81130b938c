package dev.kafkareranker.bench;

import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.serde.AvroSerializer;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** The bench's retriever: candidates keyed by their query_id, each batch flushed so its send time is when it left. */
final class CandidateSender implements AutoCloseable {

    private final KafkaProducer<String, RetrievalCandidate> producer;
    private final String topic;

    CandidateSender(String bootstrap, String topic) {
        AvroSerializer<RetrievalCandidate> serializer = new AvroSerializer<>();
        serializer.configure(Map.of("schema.registry.url", BenchEnvironment.REGISTRY), false);
        // linger 0: the latency phase measures the pipeline, not the producer's batching.
        this.producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "linger.ms", 0), new StringSerializer(), serializer);
        this.topic = topic;
    }

    void send(List<RetrievalCandidate> candidates) {
        for (RetrievalCandidate c : candidates) {
            producer.send(new ProducerRecord<>(topic, c.getQueryId(), c));
        }
        producer.flush();
    }

    @Override
    public void close() {
        producer.close();
    }
}
