package io.cgscope.top;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RunqQuantileTest {
    private static long[] slots(int... slotCountPairs) {
        long[] s = new long[CounterSample.SLOTS];
        for (int i = 0; i < slotCountPairs.length; i += 2) {
            s[slotCountPairs[i]] = slotCountPairs[i + 1];
        }
        return s;
    }

    @Test
    void linearWithinTheSlotThatHoldsTheRank() {
        // 100 waits in [16, 32) us: p99 at 99 % of the way through the slot, p50 half way.
        assertEquals((16 + 16 * 0.99) * 1e-6, RunqQuantile.of(slots(5, 100), 0.99), 1e-12);
        assertEquals(24e-6, RunqQuantile.of(slots(5, 100), 0.5), 1e-12);
        // Slot 0 is [0, 1) us.
        assertEquals(0.99e-6, RunqQuantile.of(slots(0, 100), 0.99), 1e-12);
    }

    @Test
    void theRankPicksTheSlot() {
        // 98 fast waits, 2 slow ones in [1024, 2048) us: the 99th percentile is among the slow.
        double p99 = RunqQuantile.of(slots(1, 98, 11, 2), 0.99);
        assertEquals((1024 + 1024 * 0.5) * 1e-6, p99, 1e-12);
        // 99 fast, 1 slow: the 99th is still a fast one.
        assertEquals(2e-6, RunqQuantile.of(slots(1, 99, 11, 1), 0.99), 1e-12);
    }

    @Test
    void theOpenEndedLastSlotAnswersItsLowerBound() {
        assertEquals(Math.scalb(1.0, 20) * 1e-6, RunqQuantile.of(slots(CounterSample.SLOTS - 1, 5), 0.99));
    }
}
