package io.cgscope.top;

import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampler with a clock moved by hand and maps whose counters are a function of the clock. */
class TopSamplerTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final AtomicInteger reads = new AtomicInteger();
    /** Id 7 uses a quarter of a core, is sampled 100 times and switches 1000 times a second. */
    private final CounterSource.Reader reader = () -> {
        reads.incrementAndGet();
        long t = clock.get() - 1_000_000_000_000L;
        MapTable counters = new MapTable(BpfMaps.COUNTERS_WORDS);
        counters.put(7, t / 4, 0x1_0000_0000L - 700 + t / 10_000_000, t / 1_000_000); // samples wrap at 7 s
        counters.put(8, 5, 5, 5); // idle: never changes
        MapTable runq = new MapTable(BpfMaps.RUNQ_WORDS);
        long[] h = new long[BpfMaps.RUNQ_WORDS];
        h[3] = t / 1_000_000; // one wait in [4, 8) us per millisecond
        runq.put(7, h);
        return new CounterSource.Counters(EnumSet.allOf(Feature.class),
                Map.of(BpfMaps.COUNTERS, counters, BpfMaps.RUNQLAT, runq), Map.of());
    };
    private final TopSampler sampler = new TopSampler(reader, clock::get);

    private void advance(Duration d) {
        clock.addAndGet(d.toNanos());
    }

    @Test
    void ratesOverTheWindowAskedFor() throws Exception {
        Rates first = sampler.rates(Duration.ofSeconds(5));
        assertFalse(first.known(), "one read: no window yet");
        assertEquals(Duration.ofSeconds(1), sampler.untilNextRead());
        for (int i = 0; i < 10; i++) {
            advance(Duration.ofSeconds(1));
            sampler.rates(Duration.ofSeconds(5));
        }
        Rates r = sampler.rates(Duration.ofSeconds(5));
        assertTrue(r.known());
        assertEquals(5.0, r.seconds(), 1.0, "the kept read closest to 5 s ago");
        int row = r.row(7);
        assertEquals(0.25, r.cpu(row), 1e-9);
        assertEquals(1000, r.switches(row), 1e-6);
        assertEquals(Math.round(r.seconds() * 100), r.samples(row), "samples across the 2^32 wrap");
        assertTrue(r.runqP99(row) >= 4e-6 && r.runqP99(row) < 8e-6, "p99 " + r.runqP99(row));
        assertTrue(r.active(row));
        int idle = r.row(8);
        assertFalse(r.active(idle));
        assertEquals(0, r.cpu(idle));
        assertTrue(Double.isNaN(r.runqP99(idle)));
        assertTrue(r.row(9) < 0, "not in the maps");
        assertEquals(0.25, r.totalCpu(), 1e-9);
    }

    @Test
    void atMostOneReadPerSecondHoweverManyRequests() throws Exception {
        sampler.rates(Duration.ofSeconds(5));
        for (int i = 0; i < 100; i++) {
            advance(Duration.ofMillis(10));
            sampler.rates(Duration.ofSeconds(5));
        }
        assertEquals(2, reads.get(), "one at the start, one after a second");
    }

    @Test
    void keptReadsStayFewAndCoverAMinute() throws Exception {
        int most = 0;
        for (int i = 0; i < 600; i++) {
            sampler.rates(Duration.ofSeconds(5));
            most = Math.max(most, sampler.kept());
            advance(Duration.ofSeconds(1));
        }
        assertTrue(most <= 16, "kept at most " + most + " reads");
        Rates minute = sampler.rates(TopSampler.MAX_WINDOW);
        assertTrue(minute.seconds() >= 40, "a window near a minute: " + minute.seconds());
        Rates two = sampler.rates(Duration.ofSeconds(2));
        assertEquals(2, two.seconds(), 1.0);
    }

    @Test
    void readsAreDroppedAfterNobodyAsked() throws Exception {
        sampler.rates(Duration.ofSeconds(5));
        advance(Duration.ofSeconds(1));
        assertTrue(sampler.rates(Duration.ofSeconds(5)).known());
        advance(TopSampler.IDLE.plusSeconds(1));
        assertFalse(sampler.rates(Duration.ofSeconds(5)).known(), "stale reads are not a window");
        assertEquals(1, sampler.kept());
    }

    @Test
    void noCountersNoRates() throws Exception {
        TopSampler none = new TopSampler(null);
        assertFalse(none.enabled());
        assertFalse(none.rates(Duration.ofSeconds(5)).known());
    }
}
