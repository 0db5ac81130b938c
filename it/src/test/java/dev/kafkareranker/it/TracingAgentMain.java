package dev.kafkareranker.it;

import dev.kafkareranker.tracing.ModelBatch;
import dev.kafkareranker.tracing.QuerySpan;
import dev.kafkareranker.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Run by {@link TracingAgentTest} in a JVM with the OpenTelemetry Java agent attached: makes one query's span
 * tree through {@link Tracing#fromEnvironment()} and prints what it used and the result's traceparent. The agent
 * exports the spans and flushes them when this JVM exits.
 */
public final class TracingAgentMain {

    private TracingAgentMain() {
    }

    public static void main(String[] args) {
        Tracing tracing = Tracing.fromEnvironment();
        long t0 = tracing.now();
        QuerySpan query = tracing.startQuery("agent.candidates", "kafka-reranker", "q-agent", t0);
        query.candidateArrived(new RecordHeaders().add("traceparent",
                "00-44444444444444444444444444444444-4444444444444444-01".getBytes(StandardCharsets.UTF_8)));
        query.candidateArrived(new RecordHeaders().add("traceparent",
                "00-55555555555555555555555555555555-5555555555555555-01".getBytes(StandardCharsets.UTF_8)));
        query.gathered(t0, t0 + 1_000_000, 2, true);
        query.queued(t0 + 1_000_000, t0 + 2_000_000);
        query.tokenized(t0 + 2_000_000, t0 + 3_000_000, 2, 40);
        query.modelBatch(t0 + 3_000_000, t0 + 4_000_000, new ModelBatch(2, 40, 48, "CPUExecutionProvider", "m", "1"));
        query.resultWritten(t0 + 4_000_000, t0 + 5_000_000, "agent.results");
        Headers result = new RecordHeaders();
        query.injectInto(result);
        query.end(t0 + 5_000_000);
        System.out.println("{\"tracing\": \"" + tracing.describe() + "\", \"traceparent\": \""
                + new String(result.lastHeader("traceparent").value(), StandardCharsets.UTF_8) + "\"}");
    }
}
