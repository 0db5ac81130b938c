package dev.kafkareranker.it;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.serde.AvroDeserializer;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What left the pipeline, as a read_committed consumer sees it: results per query, the candidates
 * they hold, dead letters, and the duplicates the results report. Tests compare it with what went in.
 */
record Ledger(Map<String, Integer> resultsPerQuery, Set<String> candidatesInResults, int deadLetters, int reportedDuplicates) {

    int results() {
        return resultsPerQuery.values().stream().mapToInt(Integer::intValue).sum();
    }

    long queriesWithMoreThanOneResult() {
        return resultsPerQuery.values().stream().filter(c -> c > 1).count();
    }

    /** Reads until every expected query has a result and nothing more arrived for {@code quiet}. */
    static Ledger read(String bootstrap, String registryUrl, String resultsTopic, String dlqTopic, int expectedQueries,
                       Duration quiet, Duration timeout) {
        AvroDeserializer<RankedResults> deserializer = new AvroDeserializer<>();
        deserializer.configure(Map.of("schema.registry.url", registryUrl, "specific.avro.reader", true), false);
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", "ledger-" + resultsTopic);
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        Map<String, Integer> perQuery = new HashMap<>();
        Set<String> inResults = new HashSet<>();
        int deadLetters = 0;
        int duplicates = 0;
        try (KafkaConsumer<String, RankedResults> results = new KafkaConsumer<>(props, new StringDeserializer(), deserializer);
             KafkaConsumer<byte[], byte[]> dlq = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            results.subscribe(List.of(resultsTopic));
            dlq.subscribe(List.of(dlqTopic));
            long deadline = System.nanoTime() + timeout.toNanos();
            long lastNews = System.nanoTime();
            while (System.nanoTime() < deadline) {
                boolean news = false;
                for (ConsumerRecord<String, RankedResults> r : results.poll(Duration.ofMillis(100))) {
                    news = true;
                    perQuery.merge(r.key(), 1, Integer::sum);
                    duplicates += r.value().getDuplicates();
                    for (RankedDocument d : r.value().getResults()) {
                        inResults.add(d.getDocId());
                    }
                }
                int dead = dlq.poll(Duration.ofMillis(10)).count();
                deadLetters += dead;
                if (news || dead > 0) {
                    lastNews = System.nanoTime();
                }
                if (perQuery.size() >= expectedQueries && System.nanoTime() - lastNews > quiet.toNanos()) {
                    break;
                }
            }
        }
        return new Ledger(perQuery, inResults, deadLetters, duplicates);
    }
}
