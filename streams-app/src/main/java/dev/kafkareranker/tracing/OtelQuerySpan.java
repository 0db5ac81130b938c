package dev.kafkareranker.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.semconv.incubating.MessagingIncubatingAttributes;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;

/** A {@link QuerySpan} on an OpenTelemetry tracer: the query span and its stages as child spans. */
final class OtelQuerySpan implements QuerySpan {

    static final AttributeKey<String> QUERY_ID = AttributeKey.stringKey("rerank.query_id");
    static final AttributeKey<Long> CANDIDATES = AttributeKey.longKey("rerank.candidates");
    static final AttributeKey<Boolean> COMPLETE = AttributeKey.booleanKey("rerank.complete");
    static final AttributeKey<Long> PAIRS = AttributeKey.longKey("rerank.pairs");
    static final AttributeKey<Long> TOKENS = AttributeKey.longKey("rerank.tokens");
    static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey("rerank.batch.size");
    static final AttributeKey<Long> BATCH_TOKENS = AttributeKey.longKey("rerank.batch.tokens");
    static final AttributeKey<Long> BATCH_PADDED_TOKENS = AttributeKey.longKey("rerank.batch.padded_tokens");
    static final AttributeKey<Double> BATCH_PADDING_RATIO = AttributeKey.doubleKey("rerank.batch.padding_ratio");
    static final AttributeKey<String> DEVICE = AttributeKey.stringKey("rerank.device");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("rerank.model.name");
    static final AttributeKey<String> MODEL_VERSION = AttributeKey.stringKey("rerank.model.version");
    static final AttributeKey<String> DEAD_LETTER_REASON = AttributeKey.stringKey("rerank.dead_letter.reason");
    static final AttributeKey<Boolean> RESUMED = AttributeKey.booleanKey("rerank.resumed");
    static final AttributeKey<String> UNFINISHED = AttributeKey.stringKey("rerank.unfinished");

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Span span;
    private final Context context;
    private long links;

    OtelQuerySpan(Tracer tracer, TextMapPropagator propagator, Span span) {
        this.tracer = tracer;
        this.propagator = propagator;
        this.span = span;
        this.context = Context.root().with(span);
    }

    @Override
    public void candidateArrived(Headers candidateHeaders) {
        SpanContext linked = Span.fromContext(propagator.extract(Context.root(), candidateHeaders, HeadersCarrier.INSTANCE))
                .getSpanContext();
        if (linked.isValid()) {
            span.addLink(linked);
            links++;
        }
    }

    @Override
    public void link(SpanContext other) {
        if (other.isValid()) {
            span.addLink(other);
            links++;
        }
    }

    @Override
    public void resumed() {
        span.setAttribute(RESUMED, true);
    }

    @Override
    public void gathered(long startNanos, long endNanos, int candidates, boolean complete) {
        span.setAttribute(MessagingIncubatingAttributes.MESSAGING_BATCH_MESSAGE_COUNT, (long) candidates);
        child("gather", SpanKind.INTERNAL, startNanos, endNanos,
                Attributes.of(CANDIDATES, (long) candidates, COMPLETE, complete));
    }

    @Override
    public void queued(long startNanos, long endNanos) {
        child("queue", SpanKind.INTERNAL, startNanos, endNanos, Attributes.empty());
    }

    @Override
    public void tokenized(long startNanos, long endNanos, int pairs, long tokens) {
        child("tokenize", SpanKind.INTERNAL, startNanos, endNanos, Attributes.of(PAIRS, (long) pairs, TOKENS, tokens));
    }

    @Override
    public void modelBatch(long startNanos, long endNanos, ModelBatch batch) {
        child("model batch", SpanKind.INTERNAL, startNanos, endNanos, Attributes.builder()
                .put(BATCH_SIZE, batch.rows()).put(BATCH_TOKENS, batch.realTokens())
                .put(BATCH_PADDED_TOKENS, batch.paddedTokens()).put(BATCH_PADDING_RATIO, batch.paddingRatio())
                .put(DEVICE, batch.device()).put(MODEL, batch.model()).put(MODEL_VERSION, batch.modelVersion()).build());
    }

    @Override
    public void resultWritten(long startNanos, long endNanos, String resultsTopic) {
        // The messaging conventions' producer span: "{operation name} {destination}", kind PRODUCER.
        child("send " + resultsTopic, SpanKind.PRODUCER, startNanos, endNanos, Attributes.builder()
                .put(MessagingIncubatingAttributes.MESSAGING_SYSTEM, MessagingIncubatingAttributes.MessagingSystemIncubatingValues.KAFKA)
                .put(MessagingIncubatingAttributes.MESSAGING_OPERATION_TYPE,
                        MessagingIncubatingAttributes.MessagingOperationTypeIncubatingValues.SEND)
                .put(MessagingIncubatingAttributes.MESSAGING_OPERATION_NAME, "send")
                .put(MessagingIncubatingAttributes.MESSAGING_DESTINATION_NAME, resultsTopic).build());
    }

    @Override
    public void injectInto(Headers headers) {
        propagator.inject(context, headers, HeadersCarrier.INSTANCE);
    }

    @Override
    public void end(long endNanos) {
        span.end(endNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void endDeadLettered(long endNanos, String reason) {
        span.setAttribute(DEAD_LETTER_REASON, reason);
        span.setStatus(StatusCode.ERROR, "dead-lettered: " + reason);
        span.end(endNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void endUnfinished(long endNanos, String why) {
        span.setAttribute(UNFINISHED, why);
        span.end(endNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public SpanContext context() {
        return span.getSpanContext();
    }

    @Override
    public boolean recording() {
        return span.isRecording();
    }

    /** How many candidates' contexts were linked so far. */
    long links() {
        return links;
    }

    private void child(String name, SpanKind kind, long startNanos, long endNanos, Attributes attributes) {
        tracer.spanBuilder(name).setParent(context).setSpanKind(kind).setAllAttributes(attributes)
                .setStartTimestamp(startNanos, TimeUnit.NANOSECONDS).startSpan()
                .end(endNanos, TimeUnit.NANOSECONDS);
    }
}
