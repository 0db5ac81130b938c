package dev.kafkareranker.gather;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The few operations {@link GatherStore} needs of a key-value store with String keys ordered by their
 * UTF-8 bytes: a Kafka Streams store in the app, a sorted map in unit tests. Scans return lists, so no
 * caller holds an iterator while it changes the store it reads.
 */
interface StoreTable<V> {

    V get(String key);

    void put(String key, V value);

    void delete(String key);

    /** Entries with {@code from <= key <= to}, in key order. */
    List<Map.Entry<String, V>> range(String from, String to);

    /** Entries whose key starts with {@code prefix}, in key order. */
    List<Map.Entry<String, V>> prefix(String prefix);

    /** The first entry whose key starts with {@code prefix}, or null. */
    Map.Entry<String, V> first(String prefix);

    /** How many keys start with {@code prefix}. */
    int count(String prefix);

    /** A Kafka Streams store as a table. */
    static <V> StoreTable<V> of(KeyValueStore<String, V> store) {
        return new StoreTable<>() {
            private final StringSerializer keys = new StringSerializer();

            @Override
            public V get(String key) {
                return store.get(key);
            }

            @Override
            public void put(String key, V value) {
                store.put(key, value);
            }

            @Override
            public void delete(String key) {
                store.delete(key);
            }

            @Override
            public List<Map.Entry<String, V>> range(String from, String to) {
                try (KeyValueIterator<String, V> it = store.range(from, to)) {
                    return drain(it, Integer.MAX_VALUE);
                }
            }

            @Override
            public List<Map.Entry<String, V>> prefix(String prefix) {
                try (KeyValueIterator<String, V> it = store.prefixScan(prefix, keys)) {
                    return drain(it, Integer.MAX_VALUE);
                }
            }

            @Override
            public Map.Entry<String, V> first(String prefix) {
                try (KeyValueIterator<String, V> it = store.prefixScan(prefix, keys)) {
                    List<Map.Entry<String, V>> one = drain(it, 1);
                    return one.isEmpty() ? null : one.get(0);
                }
            }

            @Override
            public int count(String prefix) {
                int n = 0;
                try (KeyValueIterator<String, V> it = store.prefixScan(prefix, keys)) {
                    while (it.hasNext()) {
                        it.next();
                        n++;
                    }
                }
                return n;
            }

            private List<Map.Entry<String, V>> drain(KeyValueIterator<String, V> it, int most) {
                List<Map.Entry<String, V>> out = new ArrayList<>();
                while (out.size() < most && it.hasNext()) {
                    KeyValue<String, V> kv = it.next();
                    out.add(Map.entry(kv.key, kv.value));
                }
                return out;
            }
        };
    }
}
