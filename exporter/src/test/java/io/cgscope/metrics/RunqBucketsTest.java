package io.cgscope.metrics;

import io.cgscope.bpf.BpfMaps;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RunqBucketsTest {
    @Test
    void pow4HasTwelveBucketsFromOneMicrosecondToAboutOneSecond() {
        RunqBuckets b = RunqBuckets.of("pow4");
        assertEquals(12, b.size());
        for (int k = 0; k <= 10; k++) {
            assertEquals(Math.pow(4, k) * 1e-6, Double.parseDouble(b.le(k)), 1e-12);
        }
        assertEquals("+Inf", b.le(11));
    }

    @Test
    void log2HasEveryPowerOfTwo() {
        RunqBuckets b = RunqBuckets.of("log2");
        assertEquals(22, b.size());
        assertEquals(1048576e-6, Double.parseDouble(b.le(20)), 1e-12);
    }

    @Test
    void cumulationCountsEachSlotOnceAndTheOverflowOnlyInInf() {
        long[] slots = new long[BpfMaps.RUNQ_WORDS];
        for (int i = 0; i < BpfMaps.RUNQ_SLOTS; i++) {
            slots[i] = 1L << i;
        }
        long[] counts = new long[12];
        RunqBuckets.of("pow4").cumulate(slots, 0, counts);
        for (int k = 0; k <= 10; k++) {
            assertEquals((1L << (2 * k + 1)) - 1, counts[k], "le 4^" + k + " us = slots 0.." + (2 * k));
        }
        assertEquals((1L << BpfMaps.RUNQ_SLOTS) - 1, counts[11]);
    }
}
