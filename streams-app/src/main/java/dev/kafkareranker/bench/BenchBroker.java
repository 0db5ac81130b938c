package dev.kafkareranker.bench;

import dev.kafkareranker.app.EmbeddedKafka;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/** A broker for one pipeline phase: the embedded one, or an external one ({@code --bootstrap}) that outlives the bench. */
record BenchBroker(String bootstrapServers, EmbeddedKafka embedded) implements AutoCloseable {

    static BenchBroker open(Optional<String> external) {
        return external.map(b -> new BenchBroker(b, null)).orElseGet(() -> {
            EmbeddedKafka kafka = EmbeddedKafka.start();
            return new BenchBroker(kafka.bootstrapServers(), kafka);
        });
    }

    void createTopics(int partitions, String... names) throws Exception {
        if (embedded != null) {
            embedded.createTopics(partitions, names);
            return;
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                topics.add(new NewTopic(name, Optional.of(partitions), Optional.empty()));
            }
            admin.createTopics(topics).all().get();
        }
    }

    @Override
    public void close() {
        if (embedded != null) {
            embedded.close();
        }
    }
}
