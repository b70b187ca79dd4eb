package io.cgscope.lifecycle;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static io.cgscope.lifecycle.CrossCheck.Side.BPF;
import static io.cgscope.lifecycle.CrossCheck.Side.FANOTIFY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class CrossCheckTest {
    private final AtomicLong now = new AtomicLong();
    private final CrossCheck tally = new CrossCheck(5_000, now::get);

    @Test
    void idsSettleAfterTheGraceAsSeenByBothOrByOneSide() {
        tally.fence(100);
        tally.seen(FANOTIFY, 100);
        tally.seen(BPF, 100);
        tally.seen(BPF, 100); // its delete: no news
        tally.seen(FANOTIFY, 101);
        now.set(1_000);
        tally.seen(BPF, 102);
        tally.settle(false);
        assertEquals(new CrossCheck.Counts(0, 0, 0, 3), tally.counts(), "nothing settles within the grace");
        now.set(5_000);
        tally.seen(BPF, 101); // late, still within 101's grace
        tally.settle(false);
        assertEquals(new CrossCheck.Counts(2, 0, 0, 1), tally.counts());
        now.set(6_000);
        tally.settle(false);
        assertEquals(new CrossCheck.Counts(2, 0, 1, 0), tally.counts());
    }

    @Test
    void idsBelowTheFenceAreDroppedAndNothingSettlesBeforeIt() {
        assertFalse(tally.comparing());
        tally.seen(BPF, 50);       // made before both sides were attached
        tally.seen(FANOTIFY, 120); // made after the fence, reported before its id was known
        now.set(10_000);
        tally.settle(true);
        assertEquals(new CrossCheck.Counts(0, 0, 0, 2), tally.counts(), "no fence yet: nothing settles");
        tally.fence(100);
        tally.seen(BPF, 120);
        tally.settle(true);
        assertEquals(new CrossCheck.Counts(1, 0, 0, 0), tally.counts());
    }

    @Test
    void fanotifyOnlyIsCountedApart() {
        tally.fence(1);
        tally.seen(FANOTIFY, 7);
        tally.settle(true);
        assertEquals(new CrossCheck.Counts(0, 1, 0, 0), tally.counts());
    }
}
