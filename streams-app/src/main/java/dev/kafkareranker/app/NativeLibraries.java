package dev.kafkareranker.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The shared libraries ONNX Runtime's GPU providers load, and where (or whether) this machine has them, found
 * the way the dynamic loader looks: LD_LIBRARY_PATH, the ldconfig cache, the default directories. A library
 * found here can still fail to load (a wrong version, a missing dependency of its own); the doctor's scoring on
 * the device is the proof, this list is what tells a user which file to install.
 */
final class NativeLibraries {

    /** One library: its soname, why it is needed, and whether the provider cannot start without it. */
    record Library(String soname, String role, boolean required) {}

    /** What was looked for and where it was found. */
    record Found(Library library, Optional<Path> path) {}

    /** Finds a library by soname; the system's search in production, a test's fake otherwise. */
    interface Locator {
        Optional<Path> find(String soname);
    }

    /**
     * libonnxruntime_providers_cuda.so's DT_NEEDED entries in onnxruntime_gpu 1.23.2 ({@code readelf -d} on the
     * jar's native library; the libc family left out), the driver that libcudart opens, and the cuDNN 9 parts
     * that libcudnn.so.9 opens itself the first time a kernel needs them.
     */
    static final List<Library> CUDA = List.of(
            new Library("libcudart.so.12", "CUDA 12 runtime", true),
            new Library("libcublas.so.12", "cuBLAS", true),
            new Library("libcublasLt.so.12", "cuBLASLt", true),
            new Library("libcufft.so.11", "cuFFT", true),
            new Library("libcurand.so.10", "cuRAND", true),
            new Library("libcudnn.so.9", "cuDNN 9", true),
            new Library("libcuda.so.1", "the NVIDIA driver (from the host: NVIDIA Container Toolkit or GPU Operator)", true),
            new Library("libcudnn_graph.so.9", "cuDNN 9 part, opened on first use", false),
            new Library("libcudnn_ops.so.9", "cuDNN 9 part, opened on first use", false),
            new Library("libcudnn_engines_precompiled.so.9", "cuDNN 9 part, opened on first use", false),
            new Library("libcudnn_engines_runtime_compiled.so.9", "cuDNN 9 part, opened on first use", false),
            new Library("libcudnn_heuristic.so.9", "cuDNN 9 part, opened on first use", false));

    /** libonnxruntime_providers_tensorrt.so's DT_NEEDED entries beyond CUDA's (readelf -d, onnxruntime_gpu 1.23.2). */
    static final List<Library> TENSORRT = List.of(
            new Library("libnvinfer.so.10", "TensorRT 10 (only with inference.tensorrt.enabled=true)", false),
            new Library("libnvonnxparser.so.10", "TensorRT 10's ONNX parser (only with inference.tensorrt.enabled=true)", false));

    /** Where CUDA images and Kubernetes' device plugins put these libraries when they are not in the ldconfig cache. */
    private static final List<String> DEFAULT_DIRS = List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib");

    private NativeLibraries() {
    }

    static List<Found> check(List<Library> libraries, Locator locator) {
        List<Found> out = new ArrayList<>();
        for (Library library : libraries) {
            out.add(new Found(library, locator.find(library.soname())));
        }
        return out;
    }

    /** The dynamic loader's search order, approximated: LD_LIBRARY_PATH, then the ldconfig cache, then the default directories. */
    static Locator system(Map<String, String> env) {
        Map<String, Path> cache = ldconfigCache();
        return soname -> {
            for (String dir : env.getOrDefault("LD_LIBRARY_PATH", "").split(":")) {
                if (!dir.isBlank() && Files.exists(Path.of(dir, soname))) {
                    return Optional.of(Path.of(dir, soname));
                }
            }
            if (cache.containsKey(soname)) {
                return Optional.of(cache.get(soname));
            }
            for (String dir : DEFAULT_DIRS) {
                if (Files.exists(Path.of(dir, soname))) {
                    return Optional.of(Path.of(dir, soname));
                }
            }
            return Optional.empty();
        };
    }

    /** {@code ldconfig -p}: "libcudart.so.12 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.12" lines; empty without ldconfig. */
    static Map<String, Path> ldconfigCache() {
        Map<String, Path> out = new HashMap<>();
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
            if (!Files.isExecutable(Path.of(ldconfig))) {
                continue;
            }
            try {
                Process process = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                        int arrow = line.indexOf("=>");
                        int space = line.strip().indexOf(' ');
                        if (arrow > 0 && space > 0) {
                            out.putIfAbsent(line.strip().substring(0, space), Path.of(line.substring(arrow + 2).strip()));
                        }
                    }
                }
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
                return out;
            } catch (IOException e) {
                return out;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return out;
            }
        }
        return out;
    }
}
