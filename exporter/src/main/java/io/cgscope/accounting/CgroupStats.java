package io.cgscope.accounting;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One cgroup's accounting as last read from its files: counters (monotonic, kept after the
 * cgroup is gone until its values are folded), gauges (meaningful only while it lives; reset at
 * every read), and IO counters per device. A bit per word says whether that word was read.
 */
public final class CgroupStats {
    /** Resources of the pressure files, in word order: {@code PRESSURE + 2 * resource + kind}. */
    public static final List<String> PRESSURE_RESOURCES = List.of("cpu", "memory", "io", "irq");
    /** {@code kind} of a pressure word: {@link PressureFile#SOME}, {@link PressureFile#FULL}. */
    public static final List<String> PRESSURE_KINDS = List.of("some", "full");
    /** The events of {@code memory.events}, in word order from {@link #MEMORY_EVENTS}. */
    public static final List<String> MEMORY_EVENT_NAMES = List.of("low", "high", "max", "oom", "oom_kill",
            "oom_group_kill");
    /** The {@code memory.stat} fields exported, in word order from {@link #MEMORY_STAT}. */
    public static final List<String> MEMORY_STAT_TYPES = List.of("anon", "file", "kernel", "sock", "shmem");

    // ---- counters
    /** Pressure stall totals, microseconds: 4 resources x (some, full). */
    public static final int PRESSURE = 0;
    /** Enforcement periods of the CPU quota ({@code nr_periods}). */
    public static final int CPU_PERIODS = 8;
    /** Periods in which the cgroup was throttled ({@code nr_throttled}). */
    public static final int CPU_THROTTLED_PERIODS = 9;
    /** Time throttled, nanoseconds ({@code throttled_usec} x 1000; v1 {@code throttled_time}). */
    public static final int CPU_THROTTLED_NS = 10;
    /** {@code memory.events}: low, high, max, oom, oom_kill, oom_group_kill. */
    public static final int MEMORY_EVENTS = 11;
    public static final int COUNTERS = MEMORY_EVENTS + 6;

    // ---- gauges
    /** The CPU quota and its period, microseconds (set only when a quota is). */
    public static final int CPU_QUOTA_US = 0;
    public static final int CPU_PERIOD_US = 1;
    public static final int MEMORY_CURRENT = 2;
    public static final int MEMORY_PEAK = 3;
    /** The memory limit, bytes (set only when there is one). */
    public static final int MEMORY_MAX = 4;
    /** {@code inactive_file} of {@code memory.stat}: the working set is usage minus this. */
    public static final int MEMORY_INACTIVE_FILE = 5;
    /** {@code memory.stat} fields: anon, file, kernel, sock, shmem. */
    public static final int MEMORY_STAT = 6;
    public static final int PIDS_CURRENT = 11;
    /** The task limit (set only when there is one). */
    public static final int PIDS_MAX = 12;
    public static final int GAUGES = 13;

    final long[] counters = new long[COUNTERS];
    long counterMask;
    final long[] gauges = new long[GAUGES];
    int gaugeMask;
    /** IO counters per device ({@code major << 32 | minor}): {@link IoStatFile#WORDS} words, then a mask of words read. */
    final Map<Long, long[]> io = new LinkedHashMap<>();

    public long counter(int word) {
        return counters[word];
    }

    public boolean hasCounter(int word) {
        return (counterMask & 1L << word) != 0;
    }

    /** Bit w set: counter w was read at least once. */
    public long counterMask() {
        return counterMask;
    }

    public long gauge(int word) {
        return gauges[word];
    }

    public boolean hasGauge(int word) {
        return (gaugeMask & 1 << word) != 0;
    }

    /** IO counters by device ({@code major << 32 | minor}): 6 words in {@link IoStatFile} order, then a mask. */
    public Map<Long, long[]> io() {
        return io;
    }

    void counter(int word, long v) {
        counters[word] = v;
        counterMask |= 1L << word;
    }

    void gauge(int word, long v) {
        gauges[word] = v;
        gaugeMask |= 1 << word;
    }

    /** Merges a file's device rows into the per-device counters (devices the file no longer shows keep theirs). */
    void mergeIo(IoStatFile.Rows rows) {
        for (int r = 0; r < rows.size(); r++) {
            long dev = (long) rows.major(r) << 32 | rows.minor(r);
            long[] words = io.computeIfAbsent(dev, k -> new long[IoStatFile.WORDS + 1]);
            for (int w = 0; w < IoStatFile.WORDS; w++) {
                if (rows.has(r, w)) {
                    words[w] = rows.value(r, w);
                    words[IoStatFile.WORDS] |= 1L << w;
                }
            }
        }
    }

    /**
     * The working set as the kubelet computes it (cAdvisor's {@code workingSet}): usage minus
     * {@code inactive_file}, never below 0; -1 when either is unknown.
     */
    public long workingSet() {
        if (!hasGauge(MEMORY_CURRENT) || !hasGauge(MEMORY_INACTIVE_FILE)) {
            return -1;
        }
        return Math.max(0, gauges[MEMORY_CURRENT] - gauges[MEMORY_INACTIVE_FILE]);
    }
}
