package dev.kafkareranker.tracing;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.semconv.incubating.MessagingIncubatingAttributes;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's traces, through OpenTelemetry: one span per query ({@link QuerySpan}) linked to the candidates'
 * own trace contexts, stages as its children, and its context carried on in result and dead-letter headers.
 *
 * <p>Which OpenTelemetry, decided once at start ({@link #fromEnvironment}):
 * <ul>
 *   <li>the OpenTelemetry Java agent attached: the agent's instance ({@link GlobalOpenTelemetry}), so its
 *       exporters, sampler and resource apply and no second SDK is made;</li>
 *   <li>else, any {@code OTEL_*} environment variable or {@code otel.*} system property (and not
 *       {@code otel.sdk.disabled=true}): an SDK built by OpenTelemetry's autoconfiguration from them, exporting
 *       traces over OTLP by default; its metrics and logs exporters default to none here (the app's metrics are
 *       Prometheus'), and the service name to {@code kafka-reranker}. It is not registered as the global
 *       instance;</li>
 *   <li>else: off. {@link #startQuery} returns {@link QuerySpan#NONE} and nothing else runs on the hot path.</li>
 * </ul>
 * Propagation is the configured propagators' (W3C trace context and baggage by default) over Kafka headers.
 */
public final class Tracing implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
    private static final String INSTRUMENTATION = "dev.kafkareranker";
    /** A class of the OpenTelemetry Java agent, on the system class path when it is attached. */
    private static final String AGENT_CLASS = "io.opentelemetry.javaagent.OpenTelemetryAgent";

    private static final Tracing OFF = new Tracing(null, null, null, Clock.systemUTC(), "off");

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final OpenTelemetrySdk owned;
    private final Clock clock;
    private final String description;

    private Tracing(OpenTelemetry openTelemetry, OpenTelemetrySdk owned, String version, Clock clock, String description) {
        this.tracer = openTelemetry == null ? null : openTelemetry.getTracer(INSTRUMENTATION, version);
        this.propagator = openTelemetry == null ? null : openTelemetry.getPropagators().getTextMapPropagator();
        this.owned = owned;
        this.clock = clock;
        this.description = description;
    }

    /** Tracing off: every call is a no-op. */
    public static Tracing off() {
        return OFF;
    }

    /**
     * Tracing on {@code openTelemetry}, for tests and embedders that built their own; closing this Tracing closes
     * nothing of it.
     */
    public static Tracing on(OpenTelemetry openTelemetry, Clock clock) {
        return new Tracing(openTelemetry, null, version(), clock, "given OpenTelemetry instance");
    }

    /** Decides from this process's environment variables and system properties, as the class doc says. */
    public static Tracing fromEnvironment() {
        return from(System.getenv(), propertiesOf(System.getProperties()), agentAttached());
    }

    /**
     * Decides from {@code env} and {@code properties} ({@code otel.*} keys) as the class doc says; {@code agent}:
     * whether the OpenTelemetry Java agent is attached.
     */
    public static Tracing from(Map<String, String> env, Map<String, String> properties, boolean agent) {
        if (agent) {
            LOG.info("Tracing: the OpenTelemetry Java agent is attached; query spans go to its instance");
            return new Tracing(GlobalOpenTelemetry.get(), null, version(), Clock.systemUTC(), "the OpenTelemetry Java agent");
        }
        boolean configured = env.keySet().stream().anyMatch(k -> k.startsWith("OTEL_"))
                || properties.keySet().stream().anyMatch(k -> k.startsWith("otel."));
        if (!configured) {
            return OFF;
        }
        if ("true".equalsIgnoreCase(properties.getOrDefault("otel.sdk.disabled", env.getOrDefault("OTEL_SDK_DISABLED", "false")).trim())) {
            LOG.info("Tracing: off (otel.sdk.disabled / OTEL_SDK_DISABLED is true)");
            return OFF;
        }
        OpenTelemetrySdk sdk;
        try {
            sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    // Lowest priority: the environment and system properties override each of these. OTLP over
                    // HTTP (port 4318) is the specification's default and the Java agent's; the SDK's own is gRPC.
                    .addPropertiesSupplier(() -> Map.of("otel.service.name", "kafka-reranker",
                            "otel.exporter.otlp.protocol", "http/protobuf",
                            "otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
                    // The given settings as well: the builder reads this process's own environment and system
                    // properties on top, which are the same in production and hold nothing else in tests.
                    .addPropertiesSupplier(() -> asProperties(env))
                    .addPropertiesSupplier(() -> properties)
                    // Not registered as the global instance (the builder's default): nothing else in the JVM picks it up.
                    .build()
                    .getOpenTelemetrySdk();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("The OpenTelemetry settings (OTEL_* environment variables, otel.* system"
                    + " properties) cannot be used: " + e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause().getMessage())
                    + "; fix or remove them (OTEL_SDK_DISABLED=true turns tracing off)", e);
        }
        String endpoint = properties.getOrDefault("otel.exporter.otlp.endpoint",
                env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "OpenTelemetry's default (http://localhost:4318, or :4317 for grpc)"));
        LOG.info("Tracing: on, OpenTelemetry SDK from otel.* / OTEL_* settings; OTLP endpoint {}", endpoint);
        return new Tracing(sdk, sdk, version(), Clock.systemUTC(), "OpenTelemetry SDK (autoconfigured)");
    }

    /** Whether spans are made at all. */
    public boolean enabled() {
        return tracer != null;
    }

    /**
     * The current time in epoch nanoseconds, on this Tracing's clock: what the stage methods of {@link QuerySpan}
     * take. 0 without reading any clock when tracing is off, so untraced call sites pay nothing for it.
     */
    public long now() {
        if (tracer == null) {
            return 0L;
        }
        Instant instant = clock.instant();
        return TimeUnit.SECONDS.toNanos(instant.getEpochSecond()) + instant.getNano();
    }

    /**
     * Starts a query's span at its first candidate: {@code rerank {candidatesTopic}}, kind CONSUMER, with the
     * messaging conventions' attributes for processing ({@code messaging.operation.type=process},
     * {@code messaging.operation.name=rerank}, {@code messaging.destination.name}, {@code messaging.consumer.group.name}).
     * The candidate's own context is linked (call {@link QuerySpan#candidateArrived} for each candidate,
     * the first included). A new trace: the query span has no parent, as one query gathers many producers' records.
     */
    public QuerySpan startQuery(String candidatesTopic, String consumerGroup, String queryId, long startNanos) {
        if (tracer == null) {
            return QuerySpan.NONE;
        }
        Span span = tracer.spanBuilder("rerank " + candidatesTopic)
                .setNoParent()
                .setSpanKind(SpanKind.CONSUMER)
                .setStartTimestamp(startNanos, TimeUnit.NANOSECONDS)
                .setAttribute(MessagingIncubatingAttributes.MESSAGING_SYSTEM, MessagingIncubatingAttributes.MessagingSystemIncubatingValues.KAFKA)
                .setAttribute(MessagingIncubatingAttributes.MESSAGING_OPERATION_TYPE,
                        MessagingIncubatingAttributes.MessagingOperationTypeIncubatingValues.PROCESS)
                .setAttribute(MessagingIncubatingAttributes.MESSAGING_OPERATION_NAME, "rerank")
                .setAttribute(MessagingIncubatingAttributes.MESSAGING_DESTINATION_NAME, candidatesTopic)
                .setAttribute(MessagingIncubatingAttributes.MESSAGING_CONSUMER_GROUP_NAME, consumerGroup)
                .setAttribute(OtelQuerySpan.QUERY_ID, queryId)
                .startSpan();
        return new OtelQuerySpan(tracer, propagator, span);
    }

    /**
     * The span context a record's headers carry ({@code traceparent}), or an invalid one when they carry none:
     * for callers that link or parent spans of their own.
     */
    public SpanContext extract(Headers headers) {
        if (propagator == null) {
            return SpanContext.getInvalid();
        }
        return Span.fromContext(propagator.extract(Context.root(), headers, HeadersCarrier.INSTANCE)).getSpanContext();
    }

    /** What this Tracing exports to, for the start-up line. */
    public String describe() {
        return description;
    }

    /** Flushes and closes the SDK this Tracing built (none for the agent's or a given instance). */
    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }

    static boolean agentAttached() {
        try {
            Class.forName(AGENT_CLASS, false, ClassLoader.getSystemClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** OTEL_EXPORTER_OTLP_ENDPOINT → otel.exporter.otlp.endpoint, as OpenTelemetry maps its environment variables. */
    private static Map<String, String> asProperties(Map<String, String> env) {
        Map<String, String> out = new java.util.HashMap<>();
        env.forEach((name, value) -> {
            if (name.startsWith("OTEL_")) {
                out.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        return out;
    }

    private static Map<String, String> propertiesOf(java.util.Properties properties) {
        Map<String, String> out = new java.util.HashMap<>();
        for (String name : properties.stringPropertyNames()) {
            if (name.toLowerCase(Locale.ROOT).startsWith("otel.")) {
                out.put(name, properties.getProperty(name));
            }
        }
        return out;
    }

    private static String version() {
        String version = Tracing.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
