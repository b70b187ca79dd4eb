package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Per-CPU software perf events for BPF {@code perf_event} programs ({@code <linux/perf_event.h>}). */
public final class PerfEvents {
    private static final int PERF_TYPE_SOFTWARE = 1;        // enum perf_type_id
    private static final long PERF_COUNT_SW_CPU_CLOCK = 0;  // enum perf_sw_ids
    /** sizeof(struct perf_event_attr) as of PERF_ATTR_SIZE_VER8; the kernel accepts any size it knows. */
    private static final int ATTR_SIZE = 128;
    private static final long OFF_TYPE = 0;                  // __u32 type
    private static final long OFF_SIZE = 4;                  // __u32 size
    private static final long OFF_CONFIG = 8;                // __u64 config
    private static final long OFF_SAMPLE_FREQ = 16;          // union { sample_period; sample_freq; }
    private static final long OFF_FLAGS = 40;                // the __u64 bit field after read_format
    private static final long FLAG_FREQ = 1L << 10;          // freq: sample_freq, not sample_period

    private PerfEvents() {
    }

    /**
     * A software cpu-clock event on one CPU, for all tasks ({@code pid = -1}), sampling at
     * {@code hz} per second: {@code perf_event_open(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC)}.
     * For hrtimer-driven software events the kernel turns the frequency into a fixed period.
     * Needs CAP_PERFMON (or CAP_SYS_ADMIN): {@code kernel.perf_event_paranoid} is 2 here.
     */
    public static Fd cpuClock(int cpu, int hz) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8); // zeroed
            attr.set(ValueLayout.JAVA_INT, OFF_TYPE, PERF_TYPE_SOFTWARE);
            attr.set(ValueLayout.JAVA_INT, OFF_SIZE, ATTR_SIZE);
            attr.set(ValueLayout.JAVA_LONG, OFF_CONFIG, PERF_COUNT_SW_CPU_CLOCK);
            attr.set(ValueLayout.JAVA_LONG, OFF_SAMPLE_FREQ, hz);
            attr.set(ValueLayout.JAVA_LONG, OFF_FLAGS, FLAG_FREQ);
            return Libc.perfEventOpen(attr, -1, cpu, -1, Libc.PERF_FLAG_FD_CLOEXEC, "cpu-clock " + hz + " Hz");
        }
    }

    /**
     * Any event on one CPU, for all tasks, sampling at {@code hz} per second: {@code attr.type} and
     * {@code attr.config} as given ({@code enum perf_type_id}, and the type's event: e.g. type 0
     * (hardware) config 3 (cache misses), type 1 (software) config 0 (cpu-clock)). For user
     * programs whose section names their event, as ebpf_exporter's {@code perf_event/type=,config=,frequency=}.
     */
    public static Fd sampling(int type, long config, long hz, int cpu) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8); // zeroed
            attr.set(ValueLayout.JAVA_INT, OFF_TYPE, type);
            attr.set(ValueLayout.JAVA_INT, OFF_SIZE, ATTR_SIZE);
            attr.set(ValueLayout.JAVA_LONG, OFF_CONFIG, config);
            attr.set(ValueLayout.JAVA_LONG, OFF_SAMPLE_FREQ, hz);
            attr.set(ValueLayout.JAVA_LONG, OFF_FLAGS, FLAG_FREQ);
            return Libc.perfEventOpen(attr, -1, cpu, -1, Libc.PERF_FLAG_FD_CLOEXEC,
                    "type " + type + " config " + config + " at " + hz + " Hz");
        }
    }
}
