package dev.kafkareranker.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Start-up checks of the settings that bound one another (timeouts, sizes, intervals), so that a combination
 * that would fence a producer, time out again and again or have every write refused is refused with one line
 * naming both keys, instead of showing up as a loop of task failures in production; one that only works worse
 * than the user likely meant is warned about.
 *
 * <p>The stream thread never waits for the model, so no transaction spans a scoring: how long a model
 * takes (inference.batch.timeout.ms, inference.request.timeout.ms) no longer bounds transaction.timeout.ms.
 * What does:
 * <ul>
 *   <li>Under exactly-once a transaction stays open from its first write until the commit, which Kafka
 *       Streams makes every commit.interval.ms (plus the loop iteration it ends): with a transaction
 *       timeout not above that by some seconds, the broker aborts transactions and fences the producer,
 *       every time. Kafka Streams checks only the {@code producer.}-prefixed key against its 10 s default;
 *       this checks the value the producer will use, set either way.</li>
 *   <li>A query that needs one batch of the full inference.batch.timeout.ms, behind another such batch,
 *       must not exceed inference.request.timeout.ms: it would time out, be handed over again when the
 *       model takes work, time out again, and so on.</li>
 *   <li>A killed instance's input partitions are read again only after session.timeout.ms (or its
 *       restart): gather.watermark.max.hold.ms below that lets queries gathering across the crash go out
 *       incomplete. Warned, not refused: it is a trade of completeness for latency a user may choose.</li>
 *   <li>A result is cut to results.max.bytes and a dead letter to dead.letters.max.bytes so that the producer
 *       accepts them: above its max.request.size every such write would be refused and, under exactly-once, abort
 *       its whole transaction.</li>
 *   <li>An engine queue bound (inference.queue.max.rows) below one batch (inference.batch.max.rows) pauses the
 *       input before a batch can fill: every batch runs short. Warned.</li>
 *   <li>Deadlines are looked at every gather.punctuate.interval.ms and idle input partitions send watermarks every
 *       gather.watermark.interval.ms: either above gather.max.wait.ms lets an incomplete query wait that much longer
 *       than its max wait. Warned.</li>
 * </ul>
 */
final class KeyBounds {

    /** What a transaction needs beyond the commit interval: a loop iteration on a loaded machine, and the commit itself. */
    static final long TRANSACTION_HEADROOM_MS = 5_000;
    /** Kafka Streams' own defaults, where the app sets none. */
    private static final long STREAMS_TRANSACTION_TIMEOUT_MS = 10_000;
    private static final long EOS_COMMIT_INTERVAL_MS = 100;
    private static final long SESSION_TIMEOUT_MS = 45_000;
    /** The producer's own default max.request.size. */
    private static final long PRODUCER_MAX_REQUEST_BYTES = 1_048_576;

    private KeyBounds() {
    }

    /** Throws a ConfigException for a combination that cannot work; returns warnings for those that can, at a cost. */
    static List<String> check(RerankerConfig config, Properties streams) {
        boolean exactlyOnce = String.valueOf(streams.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).startsWith("exactly_once");
        if (exactlyOnce) {
            long commit = value(streams, EOS_COMMIT_INTERVAL_MS, StreamsConfig.COMMIT_INTERVAL_MS_CONFIG);
            String txnKey = streams.containsKey(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG))
                    ? StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG) : ProducerConfig.TRANSACTION_TIMEOUT_CONFIG;
            long transaction = value(streams, STREAMS_TRANSACTION_TIMEOUT_MS, txnKey);
            if (transaction < commit + TRANSACTION_HEADROOM_MS) {
                throw new ConfigException(txnKey + "=" + transaction + " must be at least commit.interval.ms=" + commit + " plus "
                        + TRANSACTION_HEADROOM_MS + " ms: under exactly_once_v2 every transaction would outlive its timeout and the"
                        + " producer be fenced, again and again; lower commit.interval.ms (exactly-once's default is 100) or raise " + txnKey);
            }
        }
        long batch = config.getLong(RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS);
        long request = config.getLong(RerankerConfig.INFERENCE_REQUEST_TIMEOUT_MS);
        if (request < 2 * batch) {
            throw new ConfigException(RerankerConfig.INFERENCE_REQUEST_TIMEOUT_MS + "=" + request + " must be at least twice "
                    + RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS + "=" + batch + ": a query whose batch waits behind another and then runs"
                    + " its full time would time out, be handed to the model again and time out again, in a loop; raise "
                    + RerankerConfig.INFERENCE_REQUEST_TIMEOUT_MS + " (or lower " + RerankerConfig.INFERENCE_BATCH_TIMEOUT_MS + ")");
        }
        long maxRequest = value(streams, PRODUCER_MAX_REQUEST_BYTES, StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        for (String key : List.of(RerankerConfig.RESULTS_MAX_BYTES, RerankerConfig.DEAD_LETTERS_MAX_BYTES)) {
            long bytes = config.getInt(key);
            if (bytes > maxRequest) {
                throw new ConfigException(key + "=" + bytes + " is above the producer's max.request.size=" + maxRequest + ": a record that"
                        + " large would be refused, and under exactly-once abort its whole transaction; lower " + key
                        + " or raise max.request.size (and the topic's max.message.bytes)");
            }
        }
        List<String> warnings = new ArrayList<>();
        int queueRows = config.getInt(RerankerConfig.INFERENCE_QUEUE_MAX_ROWS);
        int batchRows = config.getInt(RerankerConfig.INFERENCE_BATCH_MAX_ROWS);
        if (queueRows > 0 && queueRows < batchRows) {
            warnings.add(RerankerConfig.INFERENCE_QUEUE_MAX_ROWS + "=" + queueRows + " is below " + RerankerConfig.INFERENCE_BATCH_MAX_ROWS
                    + "=" + batchRows + ": the input is paused before one batch can fill, so every batch runs short; raise "
                    + RerankerConfig.INFERENCE_QUEUE_MAX_ROWS + " (0 = two pools of full batches)");
        }
        long maxWait = config.getLong(RerankerConfig.GATHER_MAX_WAIT_MS);
        for (String key : List.of(RerankerConfig.GATHER_PUNCTUATE_INTERVAL_MS, RerankerConfig.GATHER_WATERMARK_INTERVAL_MS)) {
            long interval = config.getLong(key);
            if (interval > maxWait) {
                warnings.add(key + "=" + interval + " is above " + RerankerConfig.GATHER_MAX_WAIT_MS + "=" + maxWait + ": an incomplete query"
                        + " may wait up to that much longer than its max wait; lower " + key);
            }
        }
        long session = value(streams, SESSION_TIMEOUT_MS, StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG);
        long hold = config.getLong(RerankerConfig.GATHER_WATERMARK_MAX_HOLD_MS);
        if (hold < session) {
            warnings.add(RerankerConfig.GATHER_WATERMARK_MAX_HOLD_MS + "=" + hold + " is below session.timeout.ms=" + session + ": when an"
                    + " instance dies, its partitions are read again only after its session times out, so queries gathering then may go"
                    + " out incomplete before their remaining candidates are read; raise " + RerankerConfig.GATHER_WATERMARK_MAX_HOLD_MS);
        }
        return warnings;
    }

    /** The first of {@code keys} set in {@code props}, as a number, else {@code fallback}. */
    private static long value(Properties props, long fallback, String... keys) {
        for (String key : keys) {
            Object v = props.get(key);
            if (v != null) {
                try {
                    return Long.parseLong(v.toString().strip());
                } catch (NumberFormatException e) {
                    throw new ConfigException(key, v, "expected a number of milliseconds");
                }
            }
        }
        return fallback;
    }
}
