package io.cgscope.metrics;

import io.cgscope.bpf.BpfMaps;
import io.prometheus.client.Collector;

/**
 * The exported buckets of the run-queue latency histogram, from the kernel's slots
 * ({@code cgscope.bpf.c}: slot 0 counts waits under 1 us, slot i waits in [2^(i-1), 2^i) us, the
 * last slot everything longer). The cumulative count up to slot i is therefore exactly the count
 * of waits shorter than 2^i us: bucket {@code le = 2^i * 1e-6} seconds.
 * <ul>
 *   <li>{@code pow4} (default): le = 1 us, 4 us, 16 us, ... 4^10 us (1.048576 s), then +Inf: 12 buckets;</li>
 *   <li>{@code log2}: le = 1 us, 2 us, 4 us, ... 2^20 us, then +Inf: 22 buckets.</li>
 * </ul>
 */
public final class RunqBuckets {
    /** The largest finite bound is 2^MAX_EXPONENT us; the slot above it is the overflow slot. */
    static final int MAX_EXPONENT = BpfMaps.RUNQ_SLOTS - 2;

    private final int[] lastSlot;
    private final String[] le;

    private RunqBuckets(int step) {
        int n = MAX_EXPONENT / step + 1;
        lastSlot = new int[n + 1];
        le = new String[n + 1];
        for (int k = 0; k < n; k++) {
            int exp = k * step;
            lastSlot[k] = exp;
            le[k] = Collector.doubleToGoString(Math.scalb(1.0, exp) * 1e-6);
        }
        lastSlot[n] = BpfMaps.RUNQ_SLOTS - 1;
        le[n] = "+Inf";
    }

    /** {@code pow4} or {@code log2} ({@code --bpf.runqlat-buckets}). */
    public static RunqBuckets of(String mode) {
        return switch (mode) {
            case "pow4" -> new RunqBuckets(2);
            case "log2" -> new RunqBuckets(1);
            default -> throw new IllegalArgumentException("unknown bucket layout " + mode);
        };
    }

    /** Buckets including +Inf. */
    public int size() {
        return le.length;
    }

    /** The {@code le} label of bucket {@code b}. */
    public String le(int b) {
        return le[b];
    }

    /**
     * Cumulative counts per bucket from the slots.
     *
     * @param slots  {@code values[offset .. offset + RUNQ_SLOTS)}
     * @param counts receives {@link #size()} cumulative counts; the last one is the total count
     */
    public void cumulate(long[] slots, int offset, long[] counts) {
        long running = 0;
        int slot = 0;
        for (int b = 0; b < lastSlot.length; b++) {
            while (slot <= lastSlot[b]) {
                running += slots[offset + slot++];
            }
            counts[b] = running;
        }
    }
}
