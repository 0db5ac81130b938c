package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a killed process leaves in java.io.tmpdir, as ONNX Runtime and RocksDB name it, goes, and only when
 * the environment says this process owns the tmpdir; anything else stays. That the real libraries' copies
 * are named so, and go, is RestartCrashTest's check (after 20 SIGKILLs of a child app) and
 * AppContainerKillIT's (in the image).
 */
class LeftoverNativeLibrariesTest {

    private record Leftovers(Path ort, Path rocks, Path model, Path other) {
    }

    private static Leftovers leftovers(Path tmp) throws Exception {
        Path ort = Files.createDirectory(tmp.resolve("onnxruntime-java1234567890"));
        Files.write(ort.resolve("libonnxruntime.so"), new byte[1000]);
        Files.write(ort.resolve("libonnxruntime_providers_shared.so"), new byte[24]);
        Path rocks = Files.write(tmp.resolve("librocksdbjni987654321.so"), new byte[76]);
        Path model = Files.createDirectory(tmp.resolve("kafka-reranker-model-0123456789abcdef"));
        Files.write(model.resolve("model.onnx"), new byte[5]);
        Path other = Files.write(tmp.resolve("librocksdbjni-notes.txt"), new byte[3]);
        return new Leftovers(ort, rocks, model, other);
    }

    @Test
    void removesOnnxRuntimeDirectoriesAndRocksDbCopiesAndNothingElse(@TempDir Path tmp) throws Exception {
        Leftovers l = leftovers(tmp);

        Set<String> removed = LeftoverNativeLibraries.remove(tmp).stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());

        assertEquals(Set.of("onnxruntime-java1234567890", "librocksdbjni987654321.so"), removed);
        assertFalse(Files.exists(l.ort()));
        assertFalse(Files.exists(l.rocks()));
        assertTrue(Files.exists(l.model().resolve("model.onnx")), "the bundled model's cache is reused by every start");
        assertTrue(Files.exists(l.other()));
    }

    @Test
    void onlyAnEnvironmentThatSaysTrueRemovesAnything(@TempDir Path tmp) throws Exception {
        Leftovers l = leftovers(tmp);
        for (Map<String, String> env : new Map[] {Map.of(), Map.of(LeftoverNativeLibraries.OWNS_TMPDIR, "false"),
                Map.of(LeftoverNativeLibraries.OWNS_TMPDIR, "yes"), Map.of(LeftoverNativeLibraries.OWNS_TMPDIR, "1")}) {
            LeftoverNativeLibraries.removeIfOwned(env, tmp);
            assertTrue(Files.exists(l.ort()) && Files.exists(l.rocks()), "kept with " + env);
        }
        LeftoverNativeLibraries.removeIfOwned(Map.of(LeftoverNativeLibraries.OWNS_TMPDIR, "TRUE"), tmp);
        assertFalse(Files.exists(l.ort()) || Files.exists(l.rocks()));
    }
}
