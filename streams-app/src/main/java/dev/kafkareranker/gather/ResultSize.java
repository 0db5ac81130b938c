package dev.kafkareranker.gather;

import dev.kafkareranker.avro.RankedDocument;
import dev.kafkareranker.avro.RankedResults;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Keeps a result within results.max.bytes, so that the producer never refuses it (a refused result
 * would fail the task on every restart): first the metadata of the lowest-ranked documents is dropped,
 * then the lowest-ranked documents themselves; the best documents and their scores are the result's
 * point. The cut is stated in {@code truncated}.
 */
final class ResultSize {

    /** Avro framing per map entry beyond its strings' bytes: lengths as varints, a few bytes each. */
    private static final int ENTRY_OVERHEAD = 4;
    /** What Avro's single-object encoding puts before a record's binary encoding: a 2-byte marker and the schema's 8-byte fingerprint. */
    private static final int SINGLE_OBJECT_HEADER = 10;

    private ResultSize() {
    }

    static byte[] fit(RankedResults results, Function<RankedResults, byte[]> serializer, int maxBytes) {
        byte[] bytes = serializer.apply(results);
        if (bytes.length <= maxBytes) {
            return bytes;
        }
        List<RankedDocument> docs = new ArrayList<>(results.getResults());
        int metadataCut = 0;
        int docsCut = 0;
        // Estimates pick how much to cut, the serialized size decides: at most a few rounds.
        while (bytes.length > maxBytes) {
            long excess = bytes.length - (long) maxBytes;
            boolean cutSomething = false;
            for (int i = docs.size() - 1; i >= 0 && excess > 0; i--) {
                RankedDocument d = docs.get(i);
                if (!d.getMetadata().isEmpty()) {
                    excess -= metadataBytes(d.getMetadata());
                    docs.set(i, RankedDocument.newBuilder(d).setMetadata(Map.of()).build());
                    metadataCut++;
                    cutSomething = true;
                }
            }
            while (excess > 0 && !docs.isEmpty() && docs.stream().allMatch(d -> d.getMetadata().isEmpty())) {
                RankedDocument d = docs.remove(docs.size() - 1);
                excess -= documentBytes(d);
                docsCut++;
                cutSomething = true;
            }
            if (!cutSomething) {
                break;
            }
            results.setResults(new ArrayList<>(docs));
            results.setTruncated(describe(metadataCut, docsCut, maxBytes));
            bytes = serializer.apply(results);
        }
        return bytes;
    }

    /**
     * A document's own bytes in the result, exactly, whatever optional fields it carries (provenance, stage): its binary
     * encoding by Avro, without the single-object header. Exact rather than estimated, so a round cuts no document more
     * than the excess needs.
     */
    static long documentBytes(RankedDocument d) {
        try {
            return d.toByteBuffer().remaining() - SINGLE_OBJECT_HEADER;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("Cannot encode ranked document " + d.getDocId(), e);
        }
    }

    private static long metadataBytes(Map<String, String> metadata) {
        long n = 0;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            // UTF-8 takes at most 3 bytes per char of a String's length (4 per surrogate pair).
            n += e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length()) + ENTRY_OVERHEAD;
        }
        return n;
    }

    private static String describe(int metadataCut, int docsCut, int maxBytes) {
        List<String> parts = new ArrayList<>();
        if (metadataCut > 0) {
            parts.add("metadata of " + metadataCut + " lowest-ranked documents");
        }
        if (docsCut > 0) {
            parts.add(docsCut + " lowest-ranked documents");
        }
        return String.join("; ", parts) + " (results.max.bytes=" + maxBytes + ")";
    }
}
