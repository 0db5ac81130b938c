package dev.kafkareranker.inference;

import java.util.Locale;

/**
 * Where inference runs: {@code auto} (CUDA when it loads, else CPU), {@code cpu}, or {@code cuda[:N]}.
 *
 * @param kind     what was asked for
 * @param cudaId   the GPU index for CUDA
 */
public record Device(Kind kind, int cudaId) {

    public enum Kind { AUTO, CPU, CUDA }

    public static Device parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) {
            return new Device(Kind.AUTO, 0);
        }
        if (v.equals("cpu")) {
            return new Device(Kind.CPU, 0);
        }
        if (v.equals("cuda")) {
            return new Device(Kind.CUDA, 0);
        }
        if (v.startsWith("cuda:")) {
            try {
                int id = Integer.parseInt(v.substring(5));
                if (id >= 0) {
                    return new Device(Kind.CUDA, id);
                }
            } catch (NumberFormatException ignored) {
                // falls through to the error below
            }
        }
        throw new IllegalArgumentException("inference.device '" + value + "' is not one of auto, cpu, cuda, cuda:N");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case AUTO -> "auto";
            case CPU -> "cpu";
            case CUDA -> "cuda:" + cudaId;
        };
    }
}
