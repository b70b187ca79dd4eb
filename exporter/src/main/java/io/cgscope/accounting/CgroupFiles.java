package io.cgscope.accounting;

import io.cgscope.linux.DirFileReader;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Which files of a cgroup directory each {@link Family} reads, in cgroup2 and in a v1 hierarchy,
 * and how each one's content goes into {@link CgroupStats}. Reading them is the
 * {@link HierarchyReader}'s; this is the mapping, pure and testable on file contents.
 *
 * <p>cgroup2 and v1 give the same families where v1 has an equivalent:
 * <table>
 * <caption>v1 equivalents</caption>
 * <tr><th>cgroup2</th><th>v1</th></tr>
 * <tr><td>{@code cpu.stat} nr_periods, nr_throttled, throttled_usec</td><td>{@code cpu.stat} nr_periods,
 *     nr_throttled, throttled_time (ns)</td></tr>
 * <tr><td>{@code cpu.max}</td><td>{@code cpu.cfs_quota_us} ({@code -1}: none), {@code cpu.cfs_period_us}</td></tr>
 * <tr><td>{@code memory.current}, {@code memory.peak}, {@code memory.max}</td><td>{@code memory.usage_in_bytes},
 *     {@code memory.max_usage_in_bytes}, {@code memory.limit_in_bytes}</td></tr>
 * <tr><td>{@code memory.events} max, oom_kill</td><td>{@code memory.failcnt} (times usage hit the limit),
 *     {@code memory.oom_control} oom_kill; low, high, oom and oom_group_kill have none (v1 has no low or high
 *     boundary and no group kill, and counts no OOM that did not kill)</td></tr>
 * <tr><td>{@code memory.stat} anon, file, shmem, inactive_file</td><td>{@code memory.stat} total_rss,
 *     total_cache, total_shmem, total_inactive_file (the hierarchical ones, as cgroup2's are)</td></tr>
 * <tr><td>{@code memory.stat} kernel</td><td>{@code memory.kmem.usage_in_bytes}</td></tr>
 * <tr><td>{@code memory.stat} sock</td><td>none: v1 counts socket memory only for TCP, and only once
 *     {@code memory.kmem.tcp.limit_in_bytes} was set</td></tr>
 * <tr><td>{@code io.stat}</td><td>{@code blkio.throttle.io_service_bytes_recursive},
 *     {@code blkio.throttle.io_serviced_recursive} (recursive, as {@code io.stat} is; they count only in
 *     cgroups with a throttle rule: exporter/KERNEL.md)</td></tr>
 * <tr><td>{@code pids.current}, {@code pids.max}</td><td>the same files</td></tr>
 * <tr><td>{@code *.pressure}</td><td>none: pressure stall information is a cgroup2 interface (on a hybrid
 *     host the unified hierarchy has it for every cgroup2 directory)</td></tr>
 * </table>
 * {@code cpuacct.usage} and cgroup2's {@code usage_usec} are the CPU time cgscope measures with
 * BPF ({@code cgscope_cgroup_cpu_seconds_total}): no family here reads them.
 */
public final class CgroupFiles {
    /** The hierarchy's cgroup version. */
    public enum Version { V1, V2 }

    /** How one file's content goes into a cgroup's stats. */
    interface Parse {
        void into(byte[] buf, int length, CgroupStats stats, Scratch scratch);
    }

    /** One file to read: its family, its name, how to parse it. */
    public record Spec(Family family, DirFileReader.Name name, Parse parse) {
        public String fileName() {
            return name.toString();
        }
    }

    /** Per-thread room for the parsers (reused from file to file). */
    static final class Scratch {
        final long[] words = new long[64];
        final IoStatFile.Rows rows = new IoStatFile.Rows();
    }

    private static final FlatKeyedFile.Keys CPU_V2 = FlatKeyedFile.Keys.of("nr_periods", "nr_throttled", "throttled_usec");
    private static final FlatKeyedFile.Keys CPU_V1 = FlatKeyedFile.Keys.of("nr_periods", "nr_throttled", "throttled_time");
    private static final FlatKeyedFile.Keys EVENTS = FlatKeyedFile.Keys.of(
            CgroupStats.MEMORY_EVENT_NAMES.toArray(String[]::new));
    /** anon, file, kernel, sock, shmem as {@link CgroupStats#MEMORY_STAT_TYPES}, then inactive_file. */
    private static final FlatKeyedFile.Keys STAT_V2 = FlatKeyedFile.Keys.of("anon", "file", "kernel", "sock", "shmem",
            "inactive_file");
    /** anon, file, shmem (its position in the types), then inactive_file. */
    private static final FlatKeyedFile.Keys STAT_V1 = FlatKeyedFile.Keys.of("total_rss", "total_cache", "total_shmem",
            "total_inactive_file");
    private static final FlatKeyedFile.Keys OOM_CONTROL = FlatKeyedFile.Keys.of("oom_kill");

    private CgroupFiles() {
    }

    /** The files to read for these families in a hierarchy of this version, in reading order (at most 32). */
    public static List<Spec> specs(Version version, Set<Family> families) {
        List<Spec> out = new ArrayList<>();
        for (Family f : Family.ALL) {
            if (families.contains(f)) {
                out.addAll(version == Version.V2 ? v2(f) : v1(f));
            }
        }
        if (out.size() > 32) {
            throw new IllegalStateException("more than 32 files per cgroup: " + out.size());
        }
        return List.copyOf(out);
    }

    private static List<Spec> v2(Family f) {
        return switch (f) {
            case PRESSURE -> List.of(pressure("cpu.pressure", 0), pressure("memory.pressure", 1),
                    pressure("io.pressure", 2), pressure("irq.pressure", 3));
            case CPU -> List.of(
                    spec(f, "cpu.stat", (b, n, s, x) -> cpuStat(b, n, s, x, CPU_V2, 1000)),
                    spec(f, "cpu.max", (b, n, s, x) -> {
                        if (SingleValueFile.parsePair(b, n, x.words, 0) && x.words[0] != SingleValueFile.UNLIMITED) {
                            s.gauge(CgroupStats.CPU_QUOTA_US, x.words[0]);
                            s.gauge(CgroupStats.CPU_PERIOD_US, x.words[1]);
                        }
                    }));
            case MEMORY -> List.of(
                    gauge(f, "memory.current", CgroupStats.MEMORY_CURRENT),
                    gauge(f, "memory.peak", CgroupStats.MEMORY_PEAK),
                    gauge(f, "memory.max", CgroupStats.MEMORY_MAX),
                    spec(f, "memory.events", (b, n, s, x) -> {
                        long found = FlatKeyedFile.parse(b, n, EVENTS, x.words, 0);
                        for (int k = 0; k < EVENTS.size(); k++) {
                            if ((found & 1L << k) != 0) {
                                s.counter(CgroupStats.MEMORY_EVENTS + k, x.words[k]);
                            }
                        }
                    }),
                    spec(f, "memory.stat", (b, n, s, x) -> {
                        long found = FlatKeyedFile.parse(b, n, STAT_V2, x.words, 0);
                        for (int k = 0; k < 5; k++) {
                            if ((found & 1L << k) != 0) {
                                s.gauge(CgroupStats.MEMORY_STAT + k, x.words[k]);
                            }
                        }
                        if ((found & 1L << 5) != 0) {
                            s.gauge(CgroupStats.MEMORY_INACTIVE_FILE, x.words[5]);
                        }
                    }));
            case IO -> List.of(spec(f, "io.stat", (b, n, s, x) -> {
                x.rows.clear();
                IoStatFile.parseV2(b, n, x.rows);
                s.mergeIo(x.rows);
            }));
            case PIDS -> pids();
        };
    }

    private static List<Spec> v1(Family f) {
        return switch (f) {
            case PRESSURE -> List.of();
            case CPU -> List.of(
                    spec(f, "cpu.stat", (b, n, s, x) -> cpuStat(b, n, s, x, CPU_V1, 1)),
                    gauge(f, "cpu.cfs_quota_us", CgroupStats.CPU_QUOTA_US),
                    gauge(f, "cpu.cfs_period_us", CgroupStats.CPU_PERIOD_US));
            case MEMORY -> List.of(
                    gauge(f, "memory.usage_in_bytes", CgroupStats.MEMORY_CURRENT),
                    gauge(f, "memory.max_usage_in_bytes", CgroupStats.MEMORY_PEAK),
                    spec(f, "memory.limit_in_bytes", (b, n, s, x) -> {
                        long v = SingleValueFile.parse(b, n);
                        if (v >= 0 && !SingleValueFile.isV1Unlimited(v)) {
                            s.gauge(CgroupStats.MEMORY_MAX, v);
                        }
                    }),
                    spec(f, "memory.failcnt", (b, n, s, x) -> {
                        long v = SingleValueFile.parse(b, n);
                        if (v >= 0 && v != SingleValueFile.UNLIMITED) {
                            s.counter(CgroupStats.MEMORY_EVENTS + 2, v); // "max"
                        }
                    }),
                    spec(f, "memory.oom_control", (b, n, s, x) -> {
                        if (FlatKeyedFile.parse(b, n, OOM_CONTROL, x.words, 0) != 0) {
                            s.counter(CgroupStats.MEMORY_EVENTS + 4, x.words[0]); // "oom_kill"
                        }
                    }),
                    spec(f, "memory.stat", (b, n, s, x) -> {
                        long found = FlatKeyedFile.parse(b, n, STAT_V1, x.words, 0);
                        int[] type = {0, 1, 4}; // anon, file, shmem in MEMORY_STAT_TYPES
                        for (int k = 0; k < 3; k++) {
                            if ((found & 1L << k) != 0) {
                                s.gauge(CgroupStats.MEMORY_STAT + type[k], x.words[k]);
                            }
                        }
                        if ((found & 1L << 3) != 0) {
                            s.gauge(CgroupStats.MEMORY_INACTIVE_FILE, x.words[3]);
                        }
                    }),
                    gauge(f, "memory.kmem.usage_in_bytes", CgroupStats.MEMORY_STAT + 2));
            case IO -> List.of(
                    spec(f, "blkio.throttle.io_service_bytes_recursive", (b, n, s, x) -> blkio(b, n, s, x, true)),
                    spec(f, "blkio.throttle.io_serviced_recursive", (b, n, s, x) -> blkio(b, n, s, x, false)));
            case PIDS -> pids();
        };
    }

    private static List<Spec> pids() {
        return List.of(gauge(Family.PIDS, "pids.current", CgroupStats.PIDS_CURRENT),
                gauge(Family.PIDS, "pids.max", CgroupStats.PIDS_MAX));
    }

    private static Spec spec(Family f, String file, Parse p) {
        return new Spec(f, DirFileReader.name(file), p);
    }

    private static Spec pressure(String file, int resource) {
        return spec(Family.PRESSURE, file, (b, n, s, x) -> {
            int found = PressureFile.parse(b, n, x.words, 0);
            for (int kind = 0; kind < 2; kind++) {
                if ((found & 1 << kind) != 0) {
                    s.counter(CgroupStats.PRESSURE + 2 * resource + kind, x.words[kind]);
                }
            }
        });
    }

    /** A single-value file into a gauge; an unset limit ({@code max}, {@code -1}) leaves it unset. */
    private static Spec gauge(Family f, String file, int word) {
        return spec(f, file, (b, n, s, x) -> {
            long v = SingleValueFile.parse(b, n);
            if (v >= 0 && v != SingleValueFile.UNLIMITED) {
                s.gauge(word, v);
            }
        });
    }

    private static void cpuStat(byte[] b, int n, CgroupStats s, Scratch x, FlatKeyedFile.Keys keys, long toNanos) {
        long found = FlatKeyedFile.parse(b, n, keys, x.words, 0);
        // without the cpu controller cgroup2's cpu.stat has only the usage keys: nothing to set
        if ((found & 1) != 0) {
            s.counter(CgroupStats.CPU_PERIODS, x.words[0]);
        }
        if ((found & 2) != 0) {
            s.counter(CgroupStats.CPU_THROTTLED_PERIODS, x.words[1]);
        }
        if ((found & 4) != 0 && x.words[2] <= Long.MAX_VALUE / toNanos) {
            s.counter(CgroupStats.CPU_THROTTLED_NS, x.words[2] * toNanos);
        }
    }

    private static void blkio(byte[] b, int n, CgroupStats s, Scratch x, boolean bytes) {
        x.rows.clear();
        IoStatFile.parseV1(b, n, x.rows, bytes);
        s.mergeIo(x.rows);
    }
}
