package dev.kafkareranker.gather;

import java.time.Duration;

/**
 * How candidates are gathered into queries, with the caps that bound the state.
 *
 * @param maxWait                 a query is emitted this long after its first candidate even if incomplete
 * @param punctuateInterval       how often deadlines are checked; bounds how late past maxWait an
 *                                incomplete query can be
 * @param defaultTopK             results kept when a candidate names no top_k; 0 or less keeps all
 * @param maxCandidatesPerQuery   a query is emitted (complete=false) once it holds this many
 * @param maxPendingQueries       per task: when a new query would exceed it, the oldest pending query is
 *                                emitted early (complete=false)
 * @param maxPassageChars         passage and query texts are cut to this many characters on arrival
 * @param emittedRetention        how long an emitted query is remembered, so that a candidate arriving
 *                                after it is dead-lettered as late rather than starting a new query
 * @param maxInFlightQueries      per task: queries handed to the model and not yet written out; beyond it,
 *                                ready queries wait in the store, which bounds memory when the model is
 *                                slower than the input
 * @param watermarkInterval       how often each intake task reports its input partitions' watermarks to
 *                                every gathering task (and at least every second while nothing changes)
 * @param watermarkMaxHold        the longest an input partition whose intake task is not running (its
 *                                instance left, died, or is rebalancing) holds the max wait of queries
 *                                back; after it the wall clock decides
 * @param limits                  caps on what one record may bring in and one result may take out
 */
public record GatherSettings(Duration maxWait, Duration punctuateInterval, int defaultTopK, int maxCandidatesPerQuery,
                             int maxPendingQueries, int maxPassageChars, Duration emittedRetention,
                             int maxInFlightQueries, Duration watermarkInterval, Duration watermarkMaxHold, Limits limits) {

    /**
     * Caps at the edges, each with its outcome when hit.
     *
     * @param maxIdChars        a query_id or doc_id longer than this is a dead letter (ids are store keys)
     * @param maxMetadataChars  a candidate whose metadata keys and values sum to more characters is a dead letter
     * @param maxResultBytes    a result is kept within about this many bytes of Avro: the lowest ranked
     *                          documents' metadata, then the documents themselves, are cut, and the cut is
     *                          stated in the result's {@code truncated} field
     */
    public record Limits(int maxIdChars, int maxMetadataChars, int maxResultBytes) {
        public Limits {
            if (maxIdChars < 1) {
                throw new IllegalArgumentException("maxIdChars < 1: " + maxIdChars);
            }
            if (maxMetadataChars < 0) {
                throw new IllegalArgumentException("maxMetadataChars < 0: " + maxMetadataChars);
            }
            if (maxResultBytes < 1024) {
                throw new IllegalArgumentException("maxResultBytes < 1024: " + maxResultBytes);
            }
        }

        public static Limits defaults() {
            return new Limits(1_024, 65_536, 1_000_000);
        }
    }

    public static final Duration DEFAULT_WATERMARK_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_WATERMARK_MAX_HOLD = Duration.ofSeconds(30);

    /** With the default watermark settings and limits. */
    public GatherSettings(Duration maxWait, Duration punctuateInterval, int defaultTopK, int maxCandidatesPerQuery,
                          int maxPendingQueries, int maxPassageChars, Duration emittedRetention, int maxInFlightQueries) {
        this(maxWait, punctuateInterval, defaultTopK, maxCandidatesPerQuery, maxPendingQueries, maxPassageChars, emittedRetention,
                maxInFlightQueries, DEFAULT_WATERMARK_INTERVAL, DEFAULT_WATERMARK_MAX_HOLD, Limits.defaults());
    }

    public GatherSettings {
        java.util.Objects.requireNonNull(limits, "limits");
        positive("maxWait", maxWait);
        positive("punctuateInterval", punctuateInterval);
        positive("watermarkInterval", watermarkInterval);
        positive("watermarkMaxHold", watermarkMaxHold);
        if (maxCandidatesPerQuery < 1) {
            throw new IllegalArgumentException("maxCandidatesPerQuery < 1: " + maxCandidatesPerQuery);
        }
        if (maxPendingQueries < 1) {
            throw new IllegalArgumentException("maxPendingQueries < 1: " + maxPendingQueries);
        }
        if (maxPassageChars < 1) {
            throw new IllegalArgumentException("maxPassageChars < 1: " + maxPassageChars);
        }
        if (maxInFlightQueries < 1) {
            throw new IllegalArgumentException("maxInFlightQueries < 1: " + maxInFlightQueries);
        }
        if (emittedRetention.isNegative()) {
            throw new IllegalArgumentException("emittedRetention is negative: " + emittedRetention);
        }
    }

    private static void positive(String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }

    public static GatherSettings defaults() {
        return new GatherSettings(Duration.ofSeconds(5), Duration.ofMillis(100), 10, 1000, 10_000, 65_536, Duration.ofMinutes(10), 16);
    }

    public GatherSettings withCaps(int candidatesPerQuery, int pendingQueries, int passageChars) {
        return new GatherSettings(maxWait, punctuateInterval, defaultTopK, candidatesPerQuery, pendingQueries, passageChars, emittedRetention,
                maxInFlightQueries, watermarkInterval, watermarkMaxHold, limits);
    }

    public GatherSettings withLimits(Limits newLimits) {
        return new GatherSettings(maxWait, punctuateInterval, defaultTopK, maxCandidatesPerQuery, maxPendingQueries, maxPassageChars,
                emittedRetention, maxInFlightQueries, watermarkInterval, watermarkMaxHold, newLimits);
    }

    public GatherSettings withWatermarks(Duration interval, Duration maxHold) {
        return new GatherSettings(maxWait, punctuateInterval, defaultTopK, maxCandidatesPerQuery, maxPendingQueries, maxPassageChars,
                emittedRetention, maxInFlightQueries, interval, maxHold, limits);
    }
}
