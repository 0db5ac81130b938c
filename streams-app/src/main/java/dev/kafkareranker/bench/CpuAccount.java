package dev.kafkareranker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where a phase's CPU went, by kind of thread: the broker's, the stream threads', the tokenizer pool's,
 * the bench's own producer and collector, and the JVM's (GC, JIT: the process total minus every Java
 * thread). A profile says where one thread spends its time; this says which part of the pipeline takes
 * the cores from the tokenizer, which is what a feed-capacity ratio below 1 is made of.
 *
 * <p>Java threads are read through {@link ThreadMXBean#getThreadCpuTime} (a thread that ended during the
 * phase is not counted: the pipeline's threads live for the whole phase); the process total from
 * {@code /proc/self/stat} (Linux only; elsewhere the JVM row is absent).
 */
final class CpuAccount {

    /** Thread-name patterns, first match wins; order matters (a stream thread's producer is the stream's, not the bench's). */
    private static final Map<String, Pattern> GROUPS = new LinkedHashMap<>();

    static {
        GROUPS.put("tokenizer", Pattern.compile(".*-tokenize-\\d+$"));
        GROUPS.put("inference", Pattern.compile("^inference-.*"));
        GROUPS.put("stream threads", Pattern.compile(".*-StreamThread-\\d+$"));
        GROUPS.put("stream clients (producer/consumer I/O)", Pattern.compile("^kafka-producer-network-thread \\| reranker.*|.*StreamThread-\\d+-(producer|consumer|restore-consumer).*"));
        GROUPS.put("bench producer and collector", Pattern.compile("^kafka-producer-network-thread.*|^bench-.*|^main$"));
        GROUPS.put("broker", Pattern.compile(".*(kafka|raft|broker|controller|data-plane|Log|Replica|ExpirationReaper|group-coordinator|transaction|quorum|executor-).*",
                Pattern.CASE_INSENSITIVE));
    }

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> startCpu = new HashMap<>();
    private final long startProcess;
    private final long startWall;
    private final long startGcMs;
    private final Map<String, Long> startOsThreads = osThreads();

    private CpuAccount() {
        for (long id : threads.getAllThreadIds()) {
            startCpu.put(id, Math.max(0, threads.getThreadCpuTime(id)));
        }
        startProcess = processCpuNanos();
        startWall = System.nanoTime();
        startGcMs = gcMs();
    }

    /** Time the collectors report (pauses and, for G1's concurrent cycles, their duration): wall ms, not CPU. */
    private static long gcMs() {
        long ms = 0;
        for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    static CpuAccount start() {
        return new CpuAccount();
    }

    /** CPU seconds per group since {@link #start()}, plus "other Java threads", "JVM (GC, JIT)", wall seconds and cores busy. */
    ObjectNode stop(ObjectMapper json) {
        long wall = System.nanoTime() - startWall;
        Map<String, Long> byGroup = new LinkedHashMap<>();
        GROUPS.keySet().forEach(g -> byGroup.put(g, 0L));
        byGroup.put("other Java threads", 0L);
        Map<String, Long> byThread = new HashMap<>();
        long javaTotal = 0;
        for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long now = threads.getThreadCpuTime(info.getThreadId());
            if (now < 0) {
                continue;
            }
            long used = now - startCpu.getOrDefault(info.getThreadId(), 0L);
            javaTotal += used;
            byGroup.merge(group(info.getThreadName()), used, Long::sum);
            byThread.merge(info.getThreadName().replaceAll("\\d+", "N"), used, Long::sum);
        }
        long process = processCpuNanos();
        ObjectNode node = json.createObjectNode();
        node.put("wall_seconds", wall / 1e9);
        node.put("gc_reported_seconds", (gcMs() - startGcMs) / 1e3);
        ObjectNode groups = node.putObject("cpu_seconds");
        byGroup.forEach((g, nanos) -> groups.put(g, nanos / 1e9));
        if (process >= 0 && startProcess >= 0) {
            groups.put("JVM (GC, JIT, other native threads)", Math.max(0, process - startProcess - javaTotal) / 1e9);
            node.put("cores_busy", (process - startProcess) / (double) wall);
        }
        // The busiest thread names (digits folded), so a group's figure can be traced to its threads.
        ObjectNode top = node.putObject("busiest_threads_cpu_seconds");
        byThread.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12)
                .forEach(e -> top.put(e.getKey(), e.getValue() / 1e9));
        // The same from the OS's side (names cut to 15 characters by Linux), which also sees the threads Java
        // does not: the JIT's compilers, GC workers, ONNX Runtime's and RocksDB's native pools.
        Map<String, Long> os = new HashMap<>();
        osThreads().forEach((key, ticks) -> os.merge(key.substring(key.indexOf(' ') + 1).replaceAll("\\d+", "N"),
                ticks - startOsThreads.getOrDefault(key, 0L), Long::sum));
        ObjectNode osTop = node.putObject("busiest_os_threads_cpu_seconds");
        os.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12)
                .forEach(e -> osTop.put(e.getKey(), e.getValue() / 100.0));
        return node;
    }

    /** utime + stime in ticks of every thread of this process, keyed "tid name"; empty where there is no /proc. */
    private static Map<String, Long> osThreads() {
        Map<String, Long> out = new HashMap<>();
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            for (java.nio.file.Path task : (Iterable<java.nio.file.Path>) tasks::iterator) {
                try {
                    String stat = java.nio.file.Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    out.put(task.getFileName() + " " + name, Long.parseLong(f[11]) + Long.parseLong(f[12]));
                } catch (Exception ended) {
                    // the thread ended while being read
                }
            }
        } catch (Exception e) {
            return out;
        }
        return out;
    }

    static String group(String threadName) {
        for (Map.Entry<String, Pattern> e : GROUPS.entrySet()) {
            if (e.getValue().matcher(threadName).matches()) {
                return e.getKey();
            }
        }
        return "other Java threads";
    }

    /** utime + stime of this process, from /proc/self/stat; -1 where there is none. */
    private static long processCpuNanos() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
            // Fields after the command name, which is in parentheses and may hold spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            // USER_HZ is 100 on every Linux the JDK runs on (sysconf(_SC_CLK_TCK)); Java cannot ask for it.
            return ticks * 10_000_000L;
        } catch (Exception e) {
            return -1;
        }
    }
}
