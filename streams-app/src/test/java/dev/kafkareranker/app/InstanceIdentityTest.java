package dev.kafkareranker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default static-membership name lives as long as the state directory: kept across restarts, new with a new directory. */
class InstanceIdentityTest {

    @TempDir
    Path dir;

    @Test
    void theNameIsMadeOnceAndKeptInTheStateDirectory() throws Exception {
        Path appDir = dir.resolve("state").resolve("my-app");
        String first = InstanceIdentity.of(appDir);
        assertTrue(first.startsWith(InstanceIdentity.host() + "-"), first);
        assertTrue(first.matches("[a-z0-9._-]+-[0-9a-f]{8}"), first);
        assertEquals(first, InstanceIdentity.of(appDir), "a restart with the same state.dir is the same member");
        assertEquals(first, Files.readString(appDir.resolve(InstanceIdentity.FILE)).strip());
    }

    @Test
    void anotherStateDirectoryOnTheSameHostIsAnotherMember() {
        assertNotEquals(InstanceIdentity.of(dir.resolve("a").resolve("app")), InstanceIdentity.of(dir.resolve("b").resolve("app")),
                "two instances on one host each have their own state.dir (Kafka Streams locks it), so their own name");
    }

    @Test
    void theHostPartIsSafeForAGroupInstanceId() {
        assertTrue(InstanceIdentity.host().matches("[a-z0-9._-]{1,64}"), InstanceIdentity.host());
    }
}
