package dev.kafkareranker.inference;

import java.util.Locale;

/**
 * When ONNX Runtime's pool threads spin (poll for work instead of sleeping). Spinning keeps a thread's
 * next operator from paying a wake-up, so it can speed up a run of many small operators; after the run it
 * only holds a core that the stream threads, tokenizers and Kafka clients could use, and burns CPU on a
 * node that has gone idle. The default stops at the end of each run: on the bench its latency and
 * throughput matched ONNX Runtime's default within run-to-run noise, and an idle node stays idle.
 */
public enum OpSpinning {
    /** Spin while a run is in progress and stop when it returns ({@code session.force_spinning_stop}). */
    WHILE_RUNNING,
    /** ONNX Runtime's default: spin also between runs. */
    ALWAYS,
    /** Never spin: every wait sleeps. */
    NEVER;

    /** The setting's value as written in a config file: {@code while-running}, {@code always}, {@code never}. */
    public String configValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Every mode's config value, in declaration order: the key's valid values. */
    public static String[] configValues() {
        return java.util.Arrays.stream(values()).map(OpSpinning::configValue).toArray(String[]::new);
    }

    public static OpSpinning parse(String value) {
        return valueOf(value.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
