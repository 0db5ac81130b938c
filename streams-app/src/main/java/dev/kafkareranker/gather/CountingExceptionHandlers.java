package dev.kafkareranker.gather;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's exception handlers, which decide between the two honest answers:
 * <ul>
 *   <li>a record that is itself bad (it cannot be decoded, or a {@link BadRecordException}: invalid,
 *       unknown model, late) goes to the dead-letter topic and processing continues;</li>
 *   <li>anything else (the Schema Registry unavailable, a serializer, a store, the model engine) fails
 *       the task: the transaction aborts, the stream thread is replaced (RerankerApp) and the input is
 *       processed again. Continuing there would commit half of a query's store changes, or lose a result.</li>
 * </ul>
 * Kafka Streams creates handlers from class names, so the listener they report to is process-wide; one
 * app runs per JVM in production.
 */
public final class CountingExceptionHandlers {

    public static final String REASON_DESERIALIZATION = "deserialization";
    public static final String REASON_INVALID = "invalid-candidate";
    public static final String REASON_PROCESSING = "processing";
    /** A dead letter or result the producer refused as too large even after it was cut to fit. */
    public static final String REASON_TOO_LARGE = "too-large";

    /** Where dead letters' size cap reaches the handlers (Kafka Streams passes them its whole config). */
    public static final String MAX_BYTES_CONFIG = "dead.letters.max.bytes";
    /** Below the producer's default max.request.size (1,048,576) with room for the record's own framing. */
    public static final int DEFAULT_MAX_BYTES = 1_000_000;
    /** The last resort when a dead letter cut to the configured size is still refused (a broker with a smaller limit). */
    static final int FALLBACK_MAX_BYTES = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(CountingExceptionHandlers.class);
    private static volatile GatherListener listener = GatherListener.NONE;

    private CountingExceptionHandlers() {
    }

    public static void report(GatherListener listener) {
        CountingExceptionHandlers.listener = listener;
    }

    private static String dlqTopic(Map<String, ?> configs) {
        Object topic = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
        return topic == null || topic.toString().isBlank() ? null : topic.toString();
    }

    /** dead.letters.max.bytes from a Kafka Streams config (the handlers', a processor's appConfigs). */
    static int maxBytes(Map<String, ?> configs) {
        Object max = configs.get(MAX_BYTES_CONFIG);
        return max == null ? DEFAULT_MAX_BYTES : Integer.parseInt(max.toString());
    }

    private static String where(ErrorHandlerContext context) {
        return context.topic() == null ? "a punctuation of " + context.taskId()
                : DeadLetterLog.where(context.topic(), context.partition(), context.offset());
    }

    /**
     * What the two record handlers share, read from the Kafka Streams config (as Kafka's own handlers share
     * theirs in CommonExceptionHandler): the dead-letter topic, or none, and the most bytes a dead letter may take.
     */
    abstract static class DeadLetterTarget {
        String dlqTopic;
        int maxBytes = DEFAULT_MAX_BYTES;

        public void configure(Map<String, ?> configs) {
            dlqTopic = dlqTopic(configs);
            maxBytes = maxBytes(configs);
        }
    }

    /**
     * Deserialization failures: bytes that are not the wire format, unknown schema ids and bad Avro are
     * dead letters; a registry that cannot answer now (not reached, 429, 5xx) fails the task instead,
     * or a registry outage would turn all valid input into dead letters.
     */
    public static final class Deserialization extends DeadLetterTarget implements DeserializationExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
            if (Failures.registryUnavailable(exception)) {
                LOG.error("Cannot read the record at {}: the Schema Registry is unavailable ({}); failing the task so that the record is"
                        + " read again once the registry answers, rather than dead-lettering valid input", where(context), exception.getMessage());
                return Response.fail();
            }
            listener.deadLettered(REASON_DESERIALIZATION, 1);
            DeadLetterLog.deadLetter(REASON_DESERIALIZATION, where(context), exception.getMessage(), exception);
            if (dlqTopic == null) {
                return Response.resume();
            }
            return Response.resume(List.of(DeadLetters.fitted(dlqTopic, record.timestamp(), record.key(), record.value(), record.headers(),
                    DeadLetters.headers(REASON_DESERIALIZATION, exception, record.topic(), record.partition(), record.offset()), maxBytes)));
        }
    }

    /** Processing failures: a {@link BadRecordException} is a dead letter; anything else fails the task. */
    public static final class Processing extends DeadLetterTarget implements ProcessingExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
            BadRecordException bad = Failures.badRecord(exception);
            if (bad == null) {
                LOG.error("Processing failed at {} in {}, not through a fault of the record: failing the task so that its transaction"
                        + " aborts and the input is processed again", where(context), context.processorNodeId(), exception);
                return Response.fail();
            }
            listener.deadLettered(bad.reason(), 1);
            DeadLetterLog.deadLetter(bad.reason(), context.topic() == null ? where(context) : DeadLetterLog.where(
                    Origin.topic(context.headers(), context.topic()), Origin.partition(context.headers(), context.partition()),
                    Origin.offset(context.headers(), context.offset())), bad.getMessage(), null);
            if (dlqTopic == null || context.topic() == null) {
                return Response.resume();
            }
            // After the repartition topic, the record's own position is the repartition topic's: the candidate's
            // source position and key travel in headers (Origin). Its value is the producer's bytes either way.
            return Response.resume(List.of(DeadLetters.ofSource(dlqTopic, Origin.source(context.headers(), context.topic(),
                    context.partition(), context.offset(), context.timestamp(), context.sourceRawKey(), context.sourceRawValue(), maxBytes),
                    bad.reason(), bad, maxBytes)));
        }
    }

    /**
     * Writes the producer refused. The pipeline does not send what a default broker or producer refuses
     * (candidates over {@value CandidateIntake#MAX_RAW_BYTES} bytes are cut at intake, results kept within
     * results.max.bytes, dead letters within dead.letters.max.bytes), because under exactly-once a refused
     * write aborts the transaction whatever a handler answers, and the task would fail again on every retry.
     * This handler is for what remains, a broker or topic with a smaller limit: a record too large is
     * written to the dead-letter topic cut to {@value #FALLBACK_MAX_BYTES} bytes, reason
     * {@value #REASON_TOO_LARGE}, counted and logged (at_least_once keeps it; exactly-once aborts and
     * retries, and the log says why). Serialization failures and every other error fail the task (Kafka's
     * default), so that nothing is skipped for a fault of the registry or the network.
     */
    public static final class Production extends DefaultProductionExceptionHandler {
        private String dlqTopic;

        @Override
        public void configure(Map<String, ?> configs) {
            super.configure(configs);
            dlqTopic = dlqTopic(configs);
        }

        @Override
        public ProductionExceptionHandler.Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                               Exception exception) {
            if (!(exception instanceof RecordTooLargeException) || dlqTopic == null) {
                return super.handleError(context, record, exception);
            }
            listener.deadLettered(REASON_TOO_LARGE, 1);
            boolean isDeadLetter = dlqTopic.equals(record.topic());
            DeadLetterLog.deadLetter(REASON_TOO_LARGE, "a write to " + record.topic(), (isDeadLetter ? "a dead letter" : "a record")
                    + " of " + size(record) + " bytes was refused (" + exception.getMessage() + "); writing it to " + dlqTopic
                    + " cut to " + FALLBACK_MAX_BYTES + " bytes", null);
            var headers = DeadLetters.headers(REASON_TOO_LARGE, exception);
            headers.add("rerank.dlq.original.topic", DeadLetters.bytes(record.topic()));
            return ProductionExceptionHandler.Response.resume(List.of(DeadLetters.fitted(dlqTopic, record.timestamp(), record.key(),
                    record.value(), isDeadLetter ? record.headers() : null, headers, FALLBACK_MAX_BYTES)));
        }

        private static long size(ProducerRecord<byte[], byte[]> record) {
            return (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : (long) record.value().length);
        }
    }
}
