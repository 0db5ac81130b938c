package dev.kafkareranker.inference;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who still uses one model version's native objects (its ONNX Runtime session and its tokenizer), so that
 * they are closed only after the last call into them has returned: closing either under a running native
 * call can crash the JVM. Counted per piece of work, never per caller: the engine holds one reference
 * until it is closed, its batching loop one while it runs, each tokenizer task one while it tokenizes,
 * and each model call one until the call returns, an abandoned hung call included. A caller's future
 * ending (cancelled by a revoked task, timed out) releases nothing.
 *
 * <p>The last release closes the native objects on the releasing thread, which by then is inside no call.
 * A call that never returns keeps them open, and their memory (the session's weights and arenas, on the
 * device too) held, until the process ends. As Vespa's shared ONNX sessions, with the count made
 * explicit rather than tied to try-with-resources, because a model call can outlive its caller's wait.
 */
final class ModelReferences {

    private static final Logger LOG = LoggerFactory.getLogger(ModelReferences.class);

    private final String name;
    private final AutoCloseable natives;
    /** Starts at 1: the owner's reference, released by {@link #releaseOwner()}. 0 means closed for good. */
    private final AtomicInteger count = new AtomicInteger(1);
    private final AtomicBoolean ownerReleased = new AtomicBoolean();

    /**
     * @param name    the version, for logs
     * @param natives closes the session and the tokenizer; run once, by whoever releases last
     */
    ModelReferences(String name, AutoCloseable natives) {
        this.name = name;
        this.natives = natives;
    }

    /** Takes a reference for a piece of work; false once the natives are closed (the work must not start). */
    boolean retain() {
        while (true) {
            int now = count.get();
            if (now == 0) {
                return false;
            }
            if (count.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Ends a piece of work's reference; the last one closes the natives. */
    void release() {
        int left = count.decrementAndGet();
        if (left < 0) {
            count.incrementAndGet();
            throw new IllegalStateException("a reference to " + name + " was released twice");
        }
        if (left == 0) {
            closeNatives();
        }
    }

    /** The owner is done (the engine closed): the natives close now if nothing uses them, else when the last user returns. */
    void releaseOwner() {
        if (!ownerReleased.compareAndSet(false, true)) {
            return;
        }
        int users = count.get() - 1;
        if (users > 0) {
            // DEBUG: on every ordinary close the batching loop still holds its reference for a moment (close never
            // waits for it), so this is routine; a call that hangs is reported by the batch timeout that abandons it.
            LOG.debug("Model {} is closed; its session and tokenizer stay open until the {} piece(s) of work still using them"
                    + " (its batching loop, a batch or tokenizer task in flight) end", name, users);
        }
        release();
    }

    /** References held now, the owner's included; 0 once the natives are closed. */
    int count() {
        return count.get();
    }

    boolean closed() {
        return count.get() == 0;
    }

    private void closeNatives() {
        try {
            natives.close();
            LOG.debug("Model {}: session and tokenizer closed", name);
        } catch (Exception | Error e) {
            // On whatever thread released last (a run thread, a tokenizer): its work is done, so only log.
            LOG.warn("Model {}: closing its session and tokenizer failed: {}", name, e.toString());
        }
    }
}
