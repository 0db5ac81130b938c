package dev.kafkareranker.gather;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A {@link StoreTable} in a sorted map, ordered by the keys' UTF-8 bytes as RocksDB orders them: for unit tests without Kafka. */
final class MemoryTable<V> implements StoreTable<V> {

    private final TreeMap<String, V> map = new TreeMap<>((a, b) -> Arrays.compareUnsigned(
            a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));

    @Override
    public V get(String key) {
        return map.get(key);
    }

    @Override
    public void put(String key, V value) {
        map.put(key, value);
    }

    @Override
    public void delete(String key) {
        map.remove(key);
    }

    @Override
    public List<Map.Entry<String, V>> range(String from, String to) {
        return new ArrayList<>(map.subMap(from, true, to, true).entrySet());
    }

    @Override
    public List<Map.Entry<String, V>> prefix(String prefix) {
        List<Map.Entry<String, V>> out = new ArrayList<>();
        for (Map.Entry<String, V> e : map.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            out.add(Map.entry(e.getKey(), e.getValue()));
        }
        return out;
    }

    @Override
    public Map.Entry<String, V> first(String prefix) {
        List<Map.Entry<String, V>> all = prefix(prefix);
        return all.isEmpty() ? null : all.get(0);
    }

    @Override
    public int count(String prefix) {
        return prefix(prefix).size();
    }

    int size() {
        return map.size();
    }
}
