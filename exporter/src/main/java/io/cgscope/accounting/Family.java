package io.cgscope.accounting;

import java.util.List;
import java.util.Locale;

/**
 * What {@code --collector.cgroupfs} selects: a group of the kernel's own per-cgroup accounting
 * files and the metric families made from them. The names are the flag's values and the
 * {@code collector} label of {@code cgscope_cgroupfs_collector_up}.
 */
public enum Family {
    /** {@code cpu.pressure}, {@code memory.pressure}, {@code io.pressure}, {@code irq.pressure} (cgroup2 only). */
    PRESSURE(null),
    /** {@code cpu.stat}'s bandwidth counters and the quota ({@code cpu.max}; v1 {@code cpu.cfs_*}). */
    CPU("cpu"),
    /** Usage, peak, limit, events and a few {@code memory.stat} fields. */
    MEMORY("memory"),
    /** Bytes and operations per device ({@code io.stat}; v1 {@code blkio.throttle.*}). */
    IO("io"),
    /** Tasks and their limit ({@code pids.current}, {@code pids.max}). */
    PIDS("pids");

    /** The flag's default: every family. */
    public static final List<Family> ALL = List.of(values());

    private final String controller;

    Family(String controller) {
        this.controller = controller;
    }

    /**
     * The cgroup controller whose files these are ({@code io} is {@code blkio} in v1), or null for
     * pressure, which is no controller's: every cgroup2 directory has it (with {@code CONFIG_PSI}).
     */
    public String controller() {
        return controller;
    }

    /** The v1 hierarchy's controller name: {@code blkio} for io, else {@link #controller()}. */
    public String v1Controller() {
        return this == IO ? "blkio" : controller;
    }

    /** As in the flag and the labels: {@code pressure}, {@code cpu}, {@code memory}, {@code io}, {@code pids}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The family of a flag value; IllegalArgumentException when there is none. */
    public static Family of(String label) {
        for (Family f : values()) {
            if (f.label().equals(label)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown cgroupfs collector \"" + label + "\"");
    }
}
