package io.cgscope.top;

/**
 * A quantile of run-queue waits from the histogram's slots ({@code cgscope.bpf.c}: slot 0 counts
 * waits under 1 us, slot i waits in [2^(i-1), 2^i) us, the last slot everything from 2^20 us),
 * estimated as Prometheus's {@code histogram_quantile} does: linear within the slot that holds the
 * rank. A rank in the open-ended last slot answers its lower bound (1.048576 s), the largest value
 * the histogram can vouch for.
 */
final class RunqQuantile {
    private RunqQuantile() {
    }

    /**
     * @param slots counts per slot (at least one count in total)
     * @param q     the quantile, in (0, 1]
     * @return seconds
     */
    static double of(long[] slots, double q) {
        long total = 0;
        for (long c : slots) {
            total += c;
        }
        double rank = q * total;
        long below = 0;
        int last = slots.length - 1;
        for (int i = 0; i < slots.length; i++) {
            long c = slots[i];
            if (c > 0 && below + c >= rank) {
                if (i == last) {
                    return lowerMicros(i) * 1e-6;
                }
                double lo = lowerMicros(i);
                double hi = Math.scalb(1.0, i);
                return (lo + (hi - lo) * (rank - below) / c) * 1e-6;
            }
            below += c;
        }
        return lowerMicros(last) * 1e-6; // unreachable with a positive total
    }

    private static double lowerMicros(int slot) {
        return slot == 0 ? 0 : Math.scalb(1.0, slot - 1);
    }
}
