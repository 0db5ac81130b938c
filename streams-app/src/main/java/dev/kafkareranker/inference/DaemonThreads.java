package dev.kafkareranker.inference;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names the engine's threads (so a thread dump says which model and which room a thread serves) and
 * makes them daemons: a hung native call must never keep the JVM from exiting.
 */
final class DaemonThreads {

    private DaemonThreads() {
    }

    /** Threads named {@code name}. */
    static ThreadFactory named(String name) {
        return task -> daemon(task, name);
    }

    /** Threads named {@code prefix} followed by 1, 2, …. */
    static ThreadFactory numbered(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> daemon(task, prefix + count.incrementAndGet());
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
