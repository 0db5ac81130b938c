package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrashedStateTest {

    @TempDir
    Path appDir;

    /** A task directory as Kafka Streams lays it out: a RocksDB store under rocksdb/STORE. */
    private Path task(String id) throws IOException {
        Path store = Files.createDirectories(appDir.resolve(id).resolve("rocksdb").resolve("rerank-queries"));
        Files.writeString(store.resolve("000001.sst"), "data");
        return appDir.resolve(id);
    }

    @Test
    void afterACrashUnderExactlyOnceEveryTaskDirectoryIsWipedAndKafkaStreamsOwnFilesStay() throws IOException {
        task("1_0");
        task("1_3");
        Files.createDirectories(appDir.resolve("0_2"));
        Files.writeString(appDir.resolve("kafka-streams-process-metadata"), "{}");
        Files.writeString(appDir.resolve(".lock"), "");
        Files.createDirectories(appDir.resolve("global"));

        assertEquals(List.of("1_0", "1_3"), CrashedState.prepare(appDir, true), "the non-empty task directories");

        assertFalse(Files.exists(appDir.resolve("1_0")));
        assertFalse(Files.exists(appDir.resolve("1_3")));
        assertFalse(Files.exists(appDir.resolve("0_2")), "an empty task directory goes too, unreported");
        assertTrue(Files.exists(appDir.resolve("kafka-streams-process-metadata")), "the process id keeps the transactional ids");
        assertTrue(Files.exists(appDir.resolve(".lock")));
        assertTrue(Files.isDirectory(appDir.resolve("global")));
    }

    @Test
    void afterACleanStopTheStateIsKeptOnceAndTheMarkerIsUsedUp() throws IOException {
        Path task = task("1_0");
        CrashedState.markStoppedCleanly(appDir);

        assertEquals(List.of(), CrashedState.prepare(appDir, true));
        assertTrue(Files.exists(task.resolve("rocksdb").resolve("rerank-queries").resolve("000001.sst")));
        assertFalse(Files.exists(appDir.resolve(CrashedState.CLEAN_STOP_MARKER)), "a crash of this run must not look clean");

        assertEquals(List.of("1_0"), CrashedState.prepare(appDir, true), "the next start without a clean stop wipes");
    }

    @Test
    void atLeastOnceKeepsStateAfterACrash() throws IOException {
        Path task = task("1_0");
        assertEquals(List.of(), CrashedState.prepare(appDir, false));
        assertTrue(Files.isDirectory(task));
    }

    @Test
    void aFirstStartHasNothingToWipe() {
        assertEquals(List.of(), CrashedState.prepare(appDir.resolve("not-there-yet"), true));
        CrashedState.markStoppedCleanly(appDir.resolve("not-there-yet"));
        assertFalse(Files.exists(appDir.resolve("not-there-yet")), "no directory made for the marker");
    }
}
