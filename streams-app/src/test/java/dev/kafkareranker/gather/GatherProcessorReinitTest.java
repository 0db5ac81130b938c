package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kafkareranker.avro.RankedResults;
import dev.kafkareranker.avro.RetrievalCandidate;
import dev.kafkareranker.avro.internal.QueryState;
import dev.kafkareranker.serde.MockSchemaRegistry;
import dev.kafkareranker.serde.SpecificAvroSerde;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What GatherProcessor derives from its stores is derived again on every init, never carried across. */
class GatherProcessorReinitTest {

    private final String scope = "reinit-" + UUID.randomUUID();

    @AfterEach
    void drop() {
        MockSchemaRegistry.drop(scope);
    }

    private <T extends org.apache.avro.specific.SpecificRecord> Serde<T> serde() {
        SpecificAvroSerde<T> serde = new SpecificAvroSerde<>();
        serde.configure(Map.of("schema.registry.url", "mock://" + scope), false);
        return serde;
    }

    private static <V> KeyValueStore<String, V> store(MockProcessorContext<?, ?> context, String name, Serde<V> values) {
        KeyValueStore<String, V> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        return store;
    }

    @Test
    void thePendingCountIsRecountedOnEveryInitOfTheSameInstance() {
        Serde<RetrievalCandidate> candidates = serde();
        Serde<RankedResults> results = serde();
        AtomicInteger gauge = new AtomicInteger();
        GatherListener listener = new GatherListener() {
            @Override
            public void pendingChanged(int delta) {
                gauge.addAndGet(delta);
            }
        };
        GatherSettings settings = new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 3, 50, 4, 200,
                Duration.ofMinutes(10), 4, false);
        GatherProcessor processor = new GatherProcessor(settings, ScorerRouter.single(new StatedScoreScorer("stated")),
                RerankTopology.STORES, listener,
                new GatherProcessor.Codecs(candidates.deserializer(), candidates.serializer(), results.serializer()),
                Topics.defaults(), Map.of());
        MockProcessorContext<String, GatherProcessor.Outcome> context = new MockProcessorContext<>();
        store(context, RerankTopology.STORES.queries(), new StoreSerde<>(QueryState.class, null));
        store(context, RerankTopology.STORES.candidates(), new StoreSerde<>(RetrievalCandidate.class, null));
        store(context, RerankTopology.STORES.deadlines(), Serdes.String());
        context.setRecordMetadata(Topics.DEFAULT_CANDIDATES, 0, 0);
        context.setCurrentSystemTimeMs(0);

        processor.init(context);
        for (String q : new String[] {"q1", "q2", "q3"}) {
            RetrievalCandidate c = RetrievalCandidate.newBuilder().setQueryId(q).setQuery("query " + q).setDocId("a")
                    .setText("score=0.1").setCandidateCount(2).setMetadata(Map.of()).build();
            processor.process(new Record<>(q, candidates.serializer().serialize(Topics.DEFAULT_CANDIDATES, c), 0L));
        }
        assertEquals(3, gauge.get());

        // Suspend and resume, or a revived task: Kafka Streams closes and inits the same instance again.
        processor.close();
        processor.init(context);
        assertEquals(3, gauge.get(), "three queries pending, not 3 + 3");
        processor.init(context);
        assertEquals(3, gauge.get(), "an init without a close in between recounts too");
    }
}
