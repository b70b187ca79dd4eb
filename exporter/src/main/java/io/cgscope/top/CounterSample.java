package io.cgscope.top;

import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * One read of the per-cgroup maps, kept compact for the live page's rates: per cgroup id (sorted,
 * for lookups by binary search), its CPU nanoseconds, samples, context switches and run-queue
 * histogram slots, all summed over the CPUs.
 *
 * <p>Only differences between two samples a minute apart at most are ever taken, so every
 * counter but CPU time keeps its low 32 bits: the difference of two such values, taken modulo
 * 2^32, is exact while fewer than 2^32 events happen between the reads (70 million a second for a
 * minute). CPU nanoseconds pass 2^32 in 4.3 s and stay whole. That makes an id 112 bytes here
 * (8 id, 8 CPU, 4 samples, 4 switches, 22 x 4 slots) against 208 bytes as read.
 */
final class CounterSample {
    static final int SLOTS = BpfMaps.RUNQ_SLOTS;

    /** {@link System#nanoTime()} when the maps were read. */
    final long nanos;
    final Set<Feature> up;
    final long[] ids;
    final long[] cpuNs;
    final int[] samples;
    final int[] switches;
    /** {@link #SLOTS} per id. */
    final int[] runq;

    private CounterSample(long nanos, Set<Feature> up, long[] ids) {
        this.nanos = nanos;
        this.up = up;
        this.ids = ids;
        this.cpuNs = new long[ids.length];
        this.samples = new int[ids.length];
        this.switches = new int[ids.length];
        this.runq = new int[ids.length * SLOTS];
    }

    /** An empty sample: no features up, no ids. */
    static CounterSample empty(long nanos) {
        return new CounterSample(nanos, Set.of(), new long[0]);
    }

    /** Copies what the rates need out of one read (whose tables the reader reuses afterwards). */
    static CounterSample of(CounterSource.Counters read, long nanos) {
        MapTable counters = read.tables().get(BpfMaps.COUNTERS);
        MapTable runqlat = read.tables().get(BpfMaps.RUNQLAT);
        long[] ids = unionOfKeys(counters, runqlat);
        Set<Feature> up = read.up().isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(read.up()));
        CounterSample s = new CounterSample(nanos, up, ids);
        if (counters != null) {
            for (int r = 0; r < counters.size(); r++) {
                int i = Arrays.binarySearch(ids, counters.key(r));
                s.cpuNs[i] = counters.value(r, BpfMaps.CPU_NS_WORD);
                s.samples[i] = (int) counters.value(r, BpfMaps.SAMPLES_WORD);
                s.switches[i] = (int) counters.value(r, BpfMaps.SWITCHES_WORD);
            }
        }
        if (runqlat != null) {
            for (int r = 0; r < runqlat.size(); r++) {
                int base = Arrays.binarySearch(ids, runqlat.key(r)) * SLOTS;
                for (int slot = 0; slot < SLOTS; slot++) {
                    s.runq[base + slot] = (int) runqlat.value(r, slot);
                }
            }
        }
        return s;
    }

    private static long[] unionOfKeys(MapTable a, MapTable b) {
        int n = (a == null ? 0 : a.size()) + (b == null ? 0 : b.size());
        long[] keys = new long[n];
        int k = 0;
        for (MapTable t : new MapTable[] {a, b}) {
            if (t != null) {
                for (int r = 0; r < t.size(); r++) {
                    keys[k++] = t.key(r);
                }
            }
        }
        Arrays.sort(keys);
        int unique = 0;
        for (int i = 0; i < n; i++) {
            if (unique == 0 || keys[i] != keys[unique - 1]) {
                keys[unique++] = keys[i];
            }
        }
        return Arrays.copyOf(keys, unique);
    }

    /** The row of an id, or a negative number when the maps held no entry for it. */
    int indexOf(long id) {
        return Arrays.binarySearch(ids, id);
    }

    /** Heap bytes of the arrays (for the sampler's bound). */
    long bytes() {
        return ids.length * (8L + 8 + 4 + 4 + 4L * SLOTS);
    }
}
