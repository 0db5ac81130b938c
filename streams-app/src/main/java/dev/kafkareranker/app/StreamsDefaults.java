package dev.kafkareranker.app;

import dev.kafkareranker.gather.CountingExceptionHandlers;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka Streams and client settings this pipeline runs with unless the user sets them: each default with
 * the reason for its value, then every key of the user's that is not the reranker's own, unchanged (so a user's
 * setting always wins).
 */
final class StreamsDefaults {

    private StreamsDefaults() {
    }

    static Properties properties(RerankerConfig config, Map<String, Object> originals) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "kafka-reranker");
        // A crash must neither lose nor duplicate a query for read_committed consumers.
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // Built-in dead-letter queue (KIP-1034): the continue handlers write the failed record there.
        props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, config.getString(RerankerConfig.TOPIC_DEAD_LETTERS));
        // A bad record goes to the dead-letter queue, any other failure fails the task so that its transaction
        // aborts and the input is processed again (CountingExceptionHandlers says which is which); counted by reason.
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, CountingExceptionHandlers.Deserialization.class.getName());
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, CountingExceptionHandlers.Processing.class.getName());
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, CountingExceptionHandlers.Production.class.getName());
        props.put(RerankerConfig.DEAD_LETTERS_MAX_BYTES, Integer.toString(config.getInt(RerankerConfig.DEAD_LETTERS_MAX_BYTES)));
        // Exactly-once sets 10 s. No transaction waits for a model (the stream thread hands queries over and goes on), so
        // what this bounds is a stream thread held up between commits: a GC pause, a node starved of CPU. 60 s rides
        // those out instead of fencing the thread; the cost: a crashed instance that never returns holds read_committed
        // readers of its partitions back this long (KeyBounds refuses a value too close to commit.interval.ms).
        props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), "60000");
        // How long a killed instance's tasks wait before the group gives them to another (or to its restart
        // under a new name): Kafka's 45 s is most of a restart's time. 10 s stays above a loaded node's
        // pauses (heartbeats run on the consumer's own thread every 3 s) and the broker's 6 s minimum.
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        // How long an idle stream thread blocks waiting for input before it runs punctuations and commits
        // again (Kafka's 100 ms). Scores come in on the engine's threads while the stream thread may be
        // waiting in poll, and no public call wakes it, so a result waits for the thread's next pass: this
        // bounds that wait. At 10 ms (bench, bundled model) the added latency's p50 was 19-20 ms, at 2 ms
        // 14-15 ms. The cost is an idle thread's wake-ups: 3.8% of a core at 2 ms against 2.4% at 10 (jstack
        // over 30 s, no input); with input flowing, poll returns on records and this does not bind.
        props.put(StreamsConfig.POLL_MS_CONFIG, "2");
        // The gathering task reads a candidates partition and the repartition topic's: Kafka Streams' default (0)
        // holds one back until the other has data fetched, to process both in timestamp order, which joins need
        // and gathering does not (the watermarks order it); -1 processes what has arrived.
        props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, Long.toString(StreamsConfig.MAX_TASK_IDLE_MS_DISABLED));
        if (!config.getString(RerankerConfig.INSTANCE_ID).isBlank()) {
            // Kafka Streams appends each stream thread's index, so one name serves every thread.
            props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, config.getString(RerankerConfig.INSTANCE_ID).strip());
        }
        // Kafka 5.0 turns this on by default; on now so that global stores behave the same across upgrades.
        props.put("processing.exception.handler.global.enabled", "true");
        // Kafka Streams' partition assignor builds a second StreamsConfig from the main consumer's settings,
        // which lack this key, and warns "Processing exception handler is not enabled for the GlobalThread"
        // at every start and rebalance although it is set: handing it to the main consumer too silences that.
        props.put(StreamsConfig.mainConsumerPrefix("processing.exception.handler.global.enabled"), "true");
        originals.forEach((key, value) -> {
            if (!RerankerConfig.DEFINITION.names().contains(key)) {
                props.put(key, value);
            }
        });
        return props;
    }
}
