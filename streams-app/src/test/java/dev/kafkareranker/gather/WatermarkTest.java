package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** An intake task's watermarks: what it sends and when, from a clock the test moves. */
class WatermarkTest {

    private static final String P = Watermark.source("candidates", 3);
    private static final long MAX_WAIT = 5_000;

    @Test
    void theRecordRoundTripsAndAnythingElseIsNotAWatermark() {
        Watermark w = new Watermark(P, 1_767_225_600_123L);
        assertEquals(w, Watermark.decode(w.encode()));
        assertEquals("3@candidates", P);
        assertNull(Watermark.decode("not a watermark".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertNull(Watermark.decode(null));
    }

    @Test
    void aBusyPartitionsWatermarkIsTheLargestTimestampReadAndIsSentWhenItMoves() {
        Watermark.Tracker t = new Watermark.Tracker(List.of(P), MAX_WAIT, 0);
        assertEquals(List.of(new Watermark(P, Long.MIN_VALUE)), t.due(200, Long.MIN_VALUE), "nothing read yet: a heartbeat that holds");
        t.observe(P, 900, 300);
        t.observe(P, 700, 350);
        assertEquals(List.of(new Watermark(P, 900)), t.due(400, Long.MIN_VALUE), "moved on: sent");
        assertEquals(List.of(), t.due(600, Long.MIN_VALUE), "unchanged, and a heartbeat is not due");
        assertEquals(List.of(new Watermark(P, 900)), t.due(1_400, Long.MIN_VALUE), "unchanged: a heartbeat a second after the last");
    }

    @Test
    void aPartitionWithNothingForTheMaxWaitIsIdleAndItsWatermarkIsTheWallClock() {
        Watermark.Tracker t = new Watermark.Tracker(List.of(P), MAX_WAIT, 0);
        t.observe(P, 100, 100);
        for (long now = 200; now < 5_100; now += 200) {
            t.due(now, Long.MIN_VALUE);
        }
        assertEquals(List.of(new Watermark(P, 5_200)), t.due(5_200, Long.MIN_VALUE));
    }

    @Test
    void aResumeOrAGapInItsPunctuationsStartsTheIdleWaitAgain() {
        Watermark.Tracker t = new Watermark.Tracker(List.of(P), MAX_WAIT, 0);
        t.observe(P, 100, 100);
        assertEquals(List.of(new Watermark(P, 100)), t.due(4_000, 3_000), "resumed at 3 s: its backlog is still to be read");
        assertEquals(List.of(new Watermark(P, 100)), t.due(7_900, 3_000));
        assertEquals(List.of(new Watermark(P, 8_000)), t.due(8_000, 3_000), "idle for the max wait since the resume");

        Watermark.Tracker held = new Watermark.Tracker(List.of(P), MAX_WAIT, 0);
        held.observe(P, 100, 100);
        assertEquals(List.of(new Watermark(P, 100)), held.due(30_000, Long.MIN_VALUE),
                "its thread was held up for 30 s: not idle yet, what came meanwhile is unread");
    }
}
