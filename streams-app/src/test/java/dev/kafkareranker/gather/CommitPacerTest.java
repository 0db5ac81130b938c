package dev.kafkareranker.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.Test;

class CommitPacerTest {

    @Test
    void asksAtOnceThenDefersToThePunctuationWithinTheInterval() {
        MockProcessorContext<String, String> context = new MockProcessorContext<>();
        context.setCurrentSystemTimeMs(1_000);
        CommitPacer pacer = CommitPacer.schedule(context);
        assertEquals(1, context.scheduledPunctuators().size());
        var punctuator = context.scheduledPunctuators().get(0);
        assertEquals(PunctuationType.WALL_CLOCK_TIME, punctuator.getType());
        assertEquals(CommitPacer.MIN_INTERVAL, punctuator.getInterval());

        pacer.forwarded();
        assertTrue(context.committed(), "the first output asks for a commit at once");
        context.resetCommit();

        context.setCurrentSystemTimeMs(1_004);
        pacer.forwarded();
        assertFalse(context.committed(), "4 ms later: within the interval, the request waits");
        punctuator.getPunctuator().punctuate(1_006);
        assertFalse(context.committed(), "still within the interval at 6 ms");
        punctuator.getPunctuator().punctuate(1_000 + CommitPacer.MIN_INTERVAL.toMillis());
        assertTrue(context.committed(), "the punctuation asks once the interval has passed: the deferred output is not left to commit.interval.ms");
        context.resetCommit();

        punctuator.getPunctuator().punctuate(1_000 + 3 * CommitPacer.MIN_INTERVAL.toMillis());
        assertFalse(context.committed(), "nothing forwarded since: no empty transaction is asked for");
    }
}
