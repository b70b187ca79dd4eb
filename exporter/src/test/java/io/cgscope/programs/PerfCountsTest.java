package io.cgscope.programs;

import io.cgscope.bpf.RawTable;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A perf_event_array counter's counts: one per record, keyed by the labels' first bytes. */
class PerfCountsTest {
    @Test
    void eachRecordCountsOneForItsKeyAndPaddingIsIgnored() {
        PerfCounts c = new PerfCounts(8);
        byte[] a = UserMetricTest.key(11);
        c.record(a);
        c.record(a);
        byte[] padded = new byte[12]; // the kernel pads records to 8 bytes plus its header: extra bytes
        System.arraycopy(a, 0, padded, 0, 8);
        c.record(padded);
        c.record(UserMetricTest.key(12));
        c.record(new byte[4]);
        RawTable t = new RawTable();
        c.read(t);
        assertEquals(2, t.size());
        long total = 0;
        for (int i = 0; i < t.size(); i++) {
            total += t.value(i, 0);
        }
        assertEquals(4, total);
        assertEquals(1, c.takeShortRecords(), "a record shorter than the labels");
        assertEquals(0, c.takeShortRecords());
        c.delete(a);
        c.read(t);
        assertEquals(1, t.size());
        c.lost(3);
        c.lost(2);
        assertEquals(5, c.lost());
        c.clear();
        c.read(t);
        assertEquals(0, t.size());
    }
}
