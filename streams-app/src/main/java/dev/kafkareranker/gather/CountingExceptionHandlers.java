package dev.kafkareranker.gather;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Kafka Streams' log-and-continue handlers, which write the built-in dead-letter queue, plus a count
 * by reason for the metrics. Kafka Streams creates handlers from class names, so the listener they
 * report to is process-wide; one app runs per JVM in production.
 */
public final class CountingExceptionHandlers {

    public static final String REASON_DESERIALIZATION = "deserialization";
    public static final String REASON_INVALID = "invalid-candidate";
    public static final String REASON_PROCESSING = "processing";

    private static final AtomicReference<GatherListener> LISTENER = new AtomicReference<>(GatherListener.NONE);

    private CountingExceptionHandlers() {
    }

    public static void report(GatherListener listener) {
        LISTENER.set(listener);
    }

    /** Deserialization failures: bytes that are not the wire format, unknown schema ids, bad Avro. */
    public static final class Deserialization extends LogAndContinueExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
            LISTENER.get().deadLettered(REASON_DESERIALIZATION, 1);
            return super.handleError(context, record, exception);
        }
    }

    /** Processing failures of the record in hand: invalid candidates and anything unexpected. */
    public static final class Processing extends LogAndContinueProcessingExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
            LISTENER.get().deadLettered(exception instanceof InvalidCandidateException ? REASON_INVALID : REASON_PROCESSING, 1);
            return super.handleError(context, record, exception);
        }
    }
}
