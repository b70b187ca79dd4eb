package io.cgscope.programs;

import io.cgscope.config.ProgramConfig.BucketType;
import io.cgscope.config.ProgramConfig.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each bucket type at its boundaries, and {@code le} written as ebpf_exporter (Go) writes it. */
class BucketsTest {
    private static Buckets of(BucketType type, double multiplier, long min, long max, List<Double> keys) {
        return new Buckets(new Histogram(type, multiplier, min, max, keys));
    }

    @Test
    void exp2() {
        Buckets b = of(BucketType.EXP2, 0.000001, 0, 27, List.of());
        assertEquals(28, b.buckets(), "bucket_min..bucket_max, both included");
        assertEquals(29, b.slots(), "and the sum's");
        assertEquals("1e-06", b.le(0));
        assertEquals("1.6e-05", b.le(4));
        assertEquals("0.000128", b.le(7));
        assertEquals("1.048576", b.le(20));
        assertEquals("134.217728", b.le(27));
        assertEquals(0, b.slotOf(0));
        assertEquals(27, b.slotOf(27), "bucket_max is a bucket (the BPF side clamps into it)");
        assertEquals(28, b.slotOf(28), "bucket_max + 1 is the sum");
        assertEquals(b.sumSlot(), b.slotOf(28));
        assertEquals(-1, b.slotOf(29));
        assertEquals(-1, b.slotOf(-1));
    }

    @Test
    void exp2WithANonZeroMinimum() {
        Buckets b = of(BucketType.EXP2, 1, 3, 4, List.of());
        assertEquals(2, b.buckets());
        assertEquals("8", b.le(0));
        assertEquals("16", b.le(1));
        assertEquals(-1, b.slotOf(2));
        assertEquals(0, b.slotOf(3));
        assertEquals(2, b.slotOf(5), "the sum");
    }

    @Test
    void exp2zero() {
        Buckets b = of(BucketType.EXP2ZERO, 1, 0, 17, List.of());
        assertEquals("0", b.le(0), "key 0 is the value 0");
        assertEquals("1", b.le(1));
        assertEquals("2", b.le(2));
        assertEquals("65536", b.le(17), "key k is 2^(k-1)");
        assertEquals(18, b.slotOf(18));
    }

    @Test
    void linear() {
        Buckets b = of(BucketType.LINEAR, 50, 0, 20, List.of());
        assertEquals("0", b.le(0));
        assertEquals("50", b.le(1));
        assertEquals("1000", b.le(20));
        assertEquals(21, b.slotOf(21), "the sum");
        Buckets c = of(BucketType.LINEAR, 1, -2, 2, List.of());
        assertEquals("-2", c.le(0));
        assertEquals(0, c.slotOf(-2));
    }

    @Test
    void fixed() {
        Buckets b = of(BucketType.FIXED, 0.001, 0, 0, List.of(1.0, 5.0, 10.0, 100.0));
        assertEquals(4, b.buckets());
        assertEquals("0.001", b.le(0));
        assertEquals("0.1", b.le(3));
        assertEquals(0, b.slotOf(1));
        assertEquals(3, b.slotOf(100));
        assertEquals(4, b.slotOf(101), "the last key + 1 is the sum");
        assertEquals(-1, b.slotOf(2), "not a key");
        assertEquals(-1, b.slotOf(0));
    }

    @Test
    void bucketKeysParseAsGoParseUintWithBase0() {
        assertEquals(10, Buckets.parseKey("10"));
        assertEquals(16, Buckets.parseKey("0x10"));
        assertEquals(8, Buckets.parseKey("010"));
        assertEquals(5, Buckets.parseKey("0b101"));
        assertEquals(0, Buckets.parseKey("0"));
        assertEquals(-1, Buckets.parseKey("18446744073709551615"), "u64 max");
        assertThrows(NumberFormatException.class, () -> Buckets.parseKey("read"));
    }

    @Test
    void goFloatFormatting() {
        assertEquals("1", GoFloat.format(1));
        assertEquals("0", GoFloat.format(0));
        assertEquals("0.5", GoFloat.format(0.5));
        assertEquals("0.0001", GoFloat.format(0.0001));
        assertEquals("1e-05", GoFloat.format(0.00001));
        assertEquals("100000", GoFloat.format(100000));
        assertEquals("1e+06", GoFloat.format(1e6));
        assertEquals("1.048576e+06", GoFloat.format(1048576));
        assertEquals("6.7108864e+07", GoFloat.format(67108864));
        assertEquals("-2.5", GoFloat.format(-2.5));
        assertEquals("0.30000000000000004", GoFloat.format(0.1 + 0.2));
        assertEquals("1.5e+300", GoFloat.format(1.5e300));
        assertEquals("+Inf", GoFloat.format(Double.POSITIVE_INFINITY));
    }
}
