package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a killed process leaves in java.io.tmpdir, as ONNX Runtime and RocksDB name it, goes; anything
 * else stays. That the real libraries' copies are named so, and go, is RestartCrashTest's check (after
 * 20 SIGKILLs of a child app) and AppContainerKillIT's (in the image).
 */
class LeftoverNativeLibrariesTest {

    @Test
    void removesOnnxRuntimeDirectoriesAndRocksDbCopiesAndNothingElse(@TempDir Path tmp) throws Exception {
        Path ort = Files.createDirectory(tmp.resolve("onnxruntime-java1234567890"));
        Files.write(ort.resolve("libonnxruntime.so"), new byte[1000]);
        Files.write(ort.resolve("libonnxruntime_providers_shared.so"), new byte[24]);
        Path rocks = Files.write(tmp.resolve("librocksdbjni987654321.so"), new byte[76]);
        Path model = Files.createDirectory(tmp.resolve("kafka-reranker-model-0123456789abcdef"));
        Files.write(model.resolve("model.onnx"), new byte[5]);
        Path other = Files.write(tmp.resolve("librocksdbjni-notes.txt"), new byte[3]);

        assertEquals(1100, LeftoverNativeLibraries.remove(tmp), "bytes freed");

        assertFalse(Files.exists(ort));
        assertFalse(Files.exists(rocks));
        assertTrue(Files.exists(model.resolve("model.onnx")), "the bundled model's cache is reused by every start");
        assertTrue(Files.exists(other));
    }

    @Test
    void aMissingTmpdirFreesNothing(@TempDir Path tmp) {
        assertEquals(0, LeftoverNativeLibraries.remove(tmp.resolve("absent")));
    }
}
