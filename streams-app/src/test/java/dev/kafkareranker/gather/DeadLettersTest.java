package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

    private static int size(ProducerRecord<byte[], byte[]> r) {
        int n = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        for (Header h : r.headers()) {
            n += h.key().length() + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    @Test
    void aDeadLetterOverTheLimitIsCutToFitAndSaysItsOriginalSize() {
        byte[] value = new byte[1_047_500];
        RecordHeaders source = new RecordHeaders();
        source.add("trace-id", "abc".getBytes(StandardCharsets.UTF_8));
        Exception cause = new IllegalArgumentException("x".repeat(50_000));
        ProducerRecord<byte[], byte[]> r = DeadLetters.fitted("dlq", 1L, "k".getBytes(StandardCharsets.UTF_8), value, source,
                DeadLetters.headers("deserialization", cause, "in", 0, 7), 1_000_000);
        assertTrue(size(r) <= 1_000_000, "size " + size(r));
        assertEquals("value=1047500", new String(r.headers().lastHeader(DeadLetters.HEADER_TRUNCATED).value(), StandardCharsets.UTF_8));
        assertEquals("abc", new String(r.headers().lastHeader("trace-id").value(), StandardCharsets.UTF_8), "small source headers are kept");
        assertTrue(r.headers().lastHeader(DeadLetters.HEADER_STACKTRACE).value().length < DeadLetters.MAX_STACKTRACE_CHARS + 100);
    }

    @Test
    void aDeadLetterWithinTheLimitIsWrittenWhole() {
        byte[] value = "small".getBytes(StandardCharsets.UTF_8);
        ProducerRecord<byte[], byte[]> r = DeadLetters.fitted("dlq", 1L, null, value, new RecordHeaders(),
                DeadLetters.headers("late-candidate", new LateCandidateException("late"), "in", 0, 7), 1_000_000);
        assertEquals("small", new String(r.value(), StandardCharsets.UTF_8));
        assertNull(r.headers().lastHeader(DeadLetters.HEADER_TRUNCATED));
    }

    @Test
    void aValueCutWhenStoredStatesItsSizeAsProducedEvenWhenWhatIsLeftFits() {
        // Stored cut to 10 of its 5,000 bytes; the dead letter has room for the 10, not for the 5,000.
        DeadLetters.Parts stored = new DeadLetters.Parts(null, 0, new byte[10], 5_000, java.util.List.of());
        ProducerRecord<byte[], byte[]> r = DeadLetters.fitted("dlq", 1L, stored,
                DeadLetters.headers("scoring-failed", new IllegalStateException("x"), "in", 0, 7), 1_000_000);
        assertEquals(10, r.value().length);
        assertEquals("value=5000", new String(r.headers().lastHeader(DeadLetters.HEADER_TRUNCATED).value(), StandardCharsets.UTF_8));
    }

    @Test
    void repeatedReasonsAreLoggedAFewTimesPerWindowThenCounted() {
        String reason = "test-reason-" + System.nanoTime();
        for (int i = 0; i < DeadLetterLog.BURST; i++) {
            assertEquals(0, DeadLetterLog.admit(reason, 1_000));
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(-1, DeadLetterLog.admit(reason, 1_000), "suppressed");
        }
        assertEquals(5, DeadLetterLog.admit(reason, 1_000 + DeadLetterLog.WINDOW_MS), "the next window's first line says how many were left out");
    }
}
