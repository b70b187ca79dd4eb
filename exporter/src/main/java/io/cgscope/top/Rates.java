package io.cgscope.top;

import io.cgscope.bpf.Feature;

import java.util.Set;

/**
 * What each cgroup did between two reads of the maps: CPU as a share of one core, cpu-clock
 * samples, context switches per second, and the 99th percentile of its run-queue waits. Each is
 * the cgroup's own tasks only, as the maps count them. An id that was not in the older read came
 * into the maps in between: everything it has counts.
 */
public final class Rates {
    /** No rates: BPF is off, or only one read so far. */
    public static final Rates NONE = new Rates(Set.of(), 0, CounterSample.empty(0), null);

    private final Set<Feature> up;
    private final double seconds;
    private final CounterSample newer;
    private final double[] cpu;
    private final long[] samples;
    private final double[] switches;
    private final double[] runqP99;
    private final boolean[] active;
    private final boolean known;
    private double totalCpu;
    private long totalSamples;
    private double totalSwitches;

    /** {@code older} null: no window (rates unknown). */
    Rates(Set<Feature> up, double seconds, CounterSample newer, CounterSample older) {
        this.up = up;
        this.seconds = seconds;
        this.newer = newer;
        this.known = older != null;
        int n = older == null ? 0 : newer.ids.length;
        cpu = new double[n];
        samples = new long[n];
        switches = new double[n];
        runqP99 = new double[n];
        active = new boolean[n];
        if (older != null) {
            compute(older);
        }
    }

    static Rates between(CounterSample older, CounterSample newer) {
        double seconds = (newer.nanos - older.nanos) / 1e9;
        return new Rates(newer.up, seconds, newer, older);
    }

    private void compute(CounterSample older) {
        long[] slots = new long[CounterSample.SLOTS];
        for (int i = 0; i < newer.ids.length; i++) {
            int j = older.indexOf(newer.ids[i]);
            if (j >= 0 && newer.cpuNs[i] < older.cpuNs[j]) {
                j = -1; // its entries were deleted and made again in between: everything it has is new
            }
            long cpuNs = newer.cpuNs[i] - (j < 0 ? 0 : older.cpuNs[j]);
            long sampled = delta32(newer.samples[i], j < 0 ? 0 : older.samples[j]);
            long switched = delta32(newer.switches[i], j < 0 ? 0 : older.switches[j]);
            long waits = 0;
            for (int s = 0; s < slots.length; s++) {
                slots[s] = delta32(newer.runq[i * slots.length + s], j < 0 ? 0 : older.runq[j * slots.length + s]);
                waits += slots[s];
            }
            cpu[i] = Math.max(0, cpuNs) / 1e9 / seconds;
            samples[i] = sampled;
            switches[i] = switched / seconds;
            runqP99[i] = waits == 0 ? Double.NaN : RunqQuantile.of(slots, 0.99);
            active[i] = cpuNs > 0 || sampled > 0 || switched > 0 || waits > 0;
            totalCpu += cpu[i];
            totalSamples += sampled;
            totalSwitches += switches[i];
        }
    }

    /** The difference of two counters kept as their low 32 bits. */
    private static long delta32(int newer, int older) {
        return (newer - older) & 0xFFFF_FFFFL;
    }

    /** Whether there is a window at all (two reads). */
    public boolean known() {
        return known;
    }

    /** The features whose values are live. */
    public Set<Feature> up() {
        return up;
    }

    /** Length of the window, seconds (0 when not {@link #known()}). */
    public double seconds() {
        return seconds;
    }

    /** The row of an id, or a negative number when the maps have nothing of it. */
    public int row(long id) {
        return known() ? newer.indexOf(id) : -1;
    }

    /** Ids with rows, in row order. */
    public int rows() {
        return cpu.length;
    }

    public long id(int row) {
        return newer.ids[row];
    }

    /** CPU time over the window as a share of one core (1.0: one core busy all the time). */
    public double cpu(int row) {
        return cpu[row];
    }

    /** cpu-clock samples in the window. */
    public long samples(int row) {
        return samples[row];
    }

    /** Context switches per second. */
    public double switches(int row) {
        return switches[row];
    }

    /** 99th percentile of the run-queue waits in the window, seconds; NaN when it had none. */
    public double runqP99(int row) {
        return runqP99[row];
    }

    /** Whether anything counted in the window. */
    public boolean active(int row) {
        return active[row];
    }

    /** Sums over every id in the maps, named or not. */
    public double totalCpu() {
        return totalCpu;
    }

    public long totalSamples() {
        return totalSamples;
    }

    public double totalSwitches() {
        return totalSwitches;
    }
}
