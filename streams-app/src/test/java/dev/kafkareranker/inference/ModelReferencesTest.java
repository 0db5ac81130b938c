package dev.kafkareranker.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The natives close once, after the owner and every piece of work let go, in whichever order. */
class ModelReferencesTest {

    private final AtomicInteger closes = new AtomicInteger();
    private final ModelReferences references = new ModelReferences("test 1", closes::incrementAndGet);

    @Test
    void theNativesCloseWhenTheOwnerIsDoneAndNothingUsesThem() {
        references.releaseOwner();
        assertEquals(1, closes.get());
        assertTrue(references.closed());
        assertFalse(references.retain(), "no work starts on closed natives");
    }

    @Test
    void workStillRunningWhenTheOwnerIsDoneKeepsThemOpenUntilItReturns() {
        assertTrue(references.retain());
        assertTrue(references.retain());
        references.releaseOwner();
        references.releaseOwner();
        assertEquals(0, closes.get(), "two calls still run");
        assertTrue(references.retain(), "work handed on by running work may still start");
        references.release();
        references.release();
        assertEquals(0, closes.get());
        references.release();
        assertEquals(1, closes.get(), "closed by the last one to return");
        assertEquals(0, references.count());
    }

    @Test
    void aReleaseTooManyIsABugNamedAsSuch() {
        references.releaseOwner();
        IllegalStateException e = assertThrows(IllegalStateException.class, references::release);
        assertTrue(e.getMessage().contains("test 1"), e.getMessage());
        assertEquals(1, closes.get());
    }

    @Test
    void aFailingCloseIsLoggedNotThrownAtTheWorkThatReleasedLast() {
        ModelReferences failing = new ModelReferences("test 2", () -> {
            throw new IllegalStateException("injected");
        });
        failing.releaseOwner();
        assertTrue(failing.closed());
    }
}
