package dev.kafkareranker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundledModelExtractTest {

    @TempDir
    Path base;

    private List<String> names() throws Exception {
        try (Stream<Path> s = Files.list(base)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void extractsOnceToADirectoryNamedByContentAndReusesIt() throws Exception {
        Path first = BundledModel.extract(base);
        assertTrue(first.getFileName().toString().matches(BundledModel.DIR_PREFIX + "[0-9a-f]{16}"), first.toString());
        assertTrue(Files.size(first.resolve("model.onnx")) > 1_000_000);
        FileTime written = Files.getLastModifiedTime(first.resolve("model.onnx"));
        Path second = BundledModel.extract(base);
        assertEquals(first, second);
        assertEquals(written, Files.getLastModifiedTime(second.resolve("model.onnx")), "not copied again");
        assertEquals(List.of(first.getFileName().toString()), names(), "nothing else is left");
        assertEquals(BundledModel.NAME, ModelDirectory.load(second).name());
    }

    @Test
    void removesACopyACrashLeftUnfinishedAndNeverUsesAHalfModel() throws Exception {
        Path abandoned = Files.createDirectory(base.resolve(BundledModel.PARTIAL_PREFIX + "123"));
        Files.writeString(abandoned.resolve("model.onnx"), "half");
        Files.setLastModifiedTime(abandoned, FileTime.from(Instant.now().minus(BundledModel.ABANDONED_AFTER).minusSeconds(60)));
        Path fresh = Files.createDirectory(base.resolve(BundledModel.PARTIAL_PREFIX + "456"));
        Path dir = BundledModel.extract(base);
        assertFalse(Files.exists(abandoned), "an abandoned copy is removed");
        assertTrue(Files.exists(fresh), "a recent one may be another process's copy in progress");
        assertTrue(Files.size(dir.resolve("model.onnx")) > 1_000_000);
    }
}
