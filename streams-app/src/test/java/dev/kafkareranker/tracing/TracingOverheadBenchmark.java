package dev.kafkareranker.tracing;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What the tracing calls cost a query when no OpenTelemetry settings are present (Tracing off): every call the
 * gatherer and the engine make for one query of eight candidates, against the same work without them. A JMH
 * benchmark, not a test: run it with
 * <pre>
 *   mvn -q -pl streams-app -am test-compile
 *   java -cp "streams-app/target/test-classes:streams-app/target/classes:$(cat cp.txt)" org.openjdk.jmh.Main TracingOverhead
 * </pre>
 * (cp.txt from {@code mvn -pl streams-app dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TracingOverheadBenchmark {

    private static final int CANDIDATES = 8;

    private final Tracing tracing = Tracing.from(java.util.Map.of(), java.util.Map.of(), false);
    private final Headers[] candidates = new Headers[CANDIDATES];
    private final Headers result = new RecordHeaders();

    public TracingOverheadBenchmark() {
        for (int i = 0; i < CANDIDATES; i++) {
            candidates[i] = new RecordHeaders().add("traceparent",
                    ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333" + i + "-01").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The per-query work the calls sit beside, reduced to touching each candidate's headers. */
    @Benchmark
    public void withoutTracingCalls(Blackhole sink) {
        for (Headers headers : candidates) {
            sink.consume(headers);
        }
        sink.consume(result);
    }

    /** The same, with every call a traced query makes, on Tracing off. */
    @Benchmark
    public void withTracingOff(Blackhole sink) {
        long start = tracing.now();
        QuerySpan span = tracing.startQuery("rerank.candidates", "kafka-reranker", "q-1", start);
        for (Headers headers : candidates) {
            span.candidateArrived(headers);
            sink.consume(headers);
        }
        long ready = tracing.now();
        span.gathered(start, ready, CANDIDATES, true);
        long batched = tracing.now();
        span.queued(ready, batched);
        long tokenized = tracing.now();
        span.tokenized(batched, tokenized, CANDIDATES, 400L);
        long scored = tracing.now();
        if (span.recording()) {
            // What the wiring should do: build the batch's description only for a span that records it.
            span.modelBatch(tokenized, scored, new ModelBatch(32, 400L, 512L, "CPUExecutionProvider", "m", "1"));
        }
        long written = tracing.now();
        span.resultWritten(scored, written, "rerank.results");
        span.injectInto(result);
        span.end(tracing.now());
        sink.consume(result);
        sink.consume(span);
    }
}
