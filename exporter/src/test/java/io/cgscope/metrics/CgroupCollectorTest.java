package io.cgscope.metrics;

import io.cgscope.bpf.Feature;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import static io.cgscope.metrics.MetricsText.labelValues;
import static io.cgscope.metrics.MetricsText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The collector on hand-built maps and a hand-fed index: naming, summing, folding, roll-up, filters. */
class CgroupCollectorTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final String CPU = "cgscope_cgroup_cpu_seconds_total";
    private static final String SWITCHES = "cgscope_cgroup_context_switches_total";

    private final FakeTicker ticker = new FakeTicker();
    private final AtomicLong nanos = new AtomicLong(1_000);
    private CgroupIndex index;
    private FakeCounterSource bpf;

    @BeforeEach
    void setUp() {
        index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.root(1);
        bpf = new FakeCounterSource(Feature.CPU, Feature.SWITCHES, Feature.RUNQLAT);
    }

    private CgroupCollector collector(int maxDepth, String include, String exclude, String buckets) {
        return new CgroupCollector(index, bpf, new CgroupLabels(maxDepth,
                include == null ? null : Pattern.compile(include), exclude == null ? null : Pattern.compile(exclude)),
                RunqBuckets.of(buckets), RETENTION, nanos::get);
    }

    private CgroupCollector collector() {
        return collector(0, null, null, "pow4");
    }

    private void mkdir(long id, long parent, String name) {
        index.created(id, parent, name.getBytes(StandardCharsets.UTF_8), Source.SWEEP);
    }

    private void rmdir(long id, long parent, String name) {
        index.deleted(id, parent, name.getBytes(StandardCharsets.UTF_8), Source.EVENT);
    }

    private void expireRetained() {
        ticker.advance(RETENTION.plusSeconds(1));
        index.maintain();
    }

    @Test
    void labelsAreIndexPathsAndTheRootIsSlash() {
        mkdir(10, 1, "system.slice");
        mkdir(11, 10, "nginx.service");
        bpf.set(Feature.CPU, 1, 2_000_000_000L).set(Feature.CPU, 11, 500_000_000L);
        List<Collector.MetricFamilySamples> m = collector().collect();
        assertEquals(2.0, value(m, CPU, "cgroup", "/"));
        assertEquals(0.5, value(m, CPU, "cgroup", "system.slice/nginx.service"));
        assertEquals(0.0, value(m, "cgscope_cgroup_unresolved_ids"));
        assertEquals(0.0, value(m, "cgscope_scrape_errors_total"));
    }

    @Test
    void idsWithTheSamePathAreOneSeries() {
        mkdir(10, 1, "a.service");
        rmdir(10, 1, "a.service");
        mkdir(12, 1, "a.service");
        bpf.set(Feature.SWITCHES, 10, 7).set(Feature.SWITCHES, 12, 5);
        assertEquals(12.0, value(collector().collect(), SWITCHES, "cgroup", "a.service"));
    }

    @Test
    void anExpiredCgroupIsFoldedSoTheSeriesNeverDecreases() {
        CgroupCollector c = collector();
        mkdir(10, 1, "a.service");
        bpf.set(Feature.SWITCHES, 10, 7);
        rmdir(10, 1, "a.service");
        mkdir(12, 1, "a.service");
        bpf.set(Feature.SWITCHES, 12, 5);
        assertEquals(12.0, value(c.collect(), SWITCHES, "cgroup", "a.service"));
        expireRetained();
        bpf.set(Feature.SWITCHES, 12, 6);
        assertEquals(13.0, value(c.collect(), SWITCHES, "cgroup", "a.service"));
        assertEquals(List.of(10L), bpf.deleted, "the folded id's entries are deleted");
        bpf.set(Feature.SWITCHES, 12, 9);
        assertEquals(16.0, value(c.collect(), SWITCHES, "cgroup", "a.service"));
    }

    @Test
    void aSeriesEndsWhenNoIdOfItsPathIsLeft() {
        CgroupCollector c = collector();
        mkdir(10, 1, "gone.service");
        bpf.set(Feature.SWITCHES, 10, 3);
        rmdir(10, 1, "gone.service");
        assertEquals(3.0, value(c.collect(), SWITCHES, "cgroup", "gone.service"), "retained: still shown");
        expireRetained();
        List<Collector.MetricFamilySamples> m = c.collect();
        assertNull(value(m, SWITCHES, "cgroup", "gone.service"));
        assertEquals(List.of(10L), bpf.deleted);
    }

    @Test
    void aCgroupThatDiedAndExpiredBetweenTwoScrapesIsNotCountedAsUnknown() {
        CgroupCollector c = collector();
        c.collect(); // a scrape before the cgroup existed
        mkdir(10, 1, "brief.service");
        bpf.set(Feature.SWITCHES, 10, 4);
        rmdir(10, 1, "brief.service");
        expireRetained(); // a retention shorter than the scrape interval
        List<Collector.MetricFamilySamples> m = c.collect();
        assertNull(value(m, SWITCHES, "cgroup", "/unknown"), "its path was remembered at its expiry");
        assertEquals(0.0, value(m, "cgscope_cgroup_unresolved_ids"));
        assertEquals(List.of(10L), bpf.deleted, "folded and deleted from the maps");
    }

    @Test
    void unresolvedIdsAreOneUnknownSeriesThenFoldedAfterTheRetention() {
        CgroupCollector c = collector();
        bpf.set(Feature.SWITCHES, 500, 4).set(Feature.SWITCHES, 501, 6);
        List<Collector.MetricFamilySamples> m = c.collect();
        assertEquals(10.0, value(m, SWITCHES, "cgroup", "/unknown"));
        assertEquals(2.0, value(m, "cgscope_cgroup_unresolved_ids"));
        nanos.addAndGet(RETENTION.plusSeconds(1).toNanos());
        bpf.set(Feature.SWITCHES, 500, 5);
        m = c.collect();
        assertEquals(11.0, value(m, SWITCHES, "cgroup", "/unknown"));
        assertEquals(List.of(500L, 501L), bpf.deleted.stream().sorted().toList());
        m = c.collect();
        assertEquals(11.0, value(m, SWITCHES, "cgroup", "/unknown"), "folded: kept after the entries went");
        assertEquals(0.0, value(m, "cgscope_cgroup_unresolved_ids"));
    }

    @Test
    void anIdNamedLateLeavesWhatItHadInUnknown() {
        CgroupCollector c = collector();
        bpf.set(Feature.SWITCHES, 50, 3);
        assertEquals(3.0, value(c.collect(), SWITCHES, "cgroup", "/unknown"));
        mkdir(50, 1, "late.service");
        bpf.set(Feature.SWITCHES, 50, 5);
        List<Collector.MetricFamilySamples> m = c.collect();
        assertEquals(5.0, value(m, SWITCHES, "cgroup", "/unknown"));
        assertEquals(0.0, value(m, SWITCHES, "cgroup", "late.service"));
        bpf.set(Feature.SWITCHES, 50, 8);
        m = c.collect();
        assertEquals(5.0, value(m, SWITCHES, "cgroup", "/unknown"));
        assertEquals(3.0, value(m, SWITCHES, "cgroup", "late.service"));
    }

    @Test
    void maxDepthRollsDeeperCgroupsUpIntoTheirAncestor() {
        mkdir(10, 1, "a.slice");
        mkdir(11, 10, "b.service");
        mkdir(12, 10, "c.slice");
        mkdir(13, 12, "d.service");
        bpf.set(Feature.SWITCHES, 10, 1).set(Feature.SWITCHES, 11, 2).set(Feature.SWITCHES, 13, 4)
                .set(Feature.SWITCHES, 1, 8);
        List<Collector.MetricFamilySamples> m = collector(1, null, null, "pow4").collect();
        assertEquals(7.0, value(m, SWITCHES, "cgroup", "a.slice"));
        assertEquals(8.0, value(m, SWITCHES, "cgroup", "/"));
        assertEquals(2, labelValues(m, SWITCHES, "cgroup").size());
        m = collector(2, null, null, "pow4").collect();
        assertEquals(4.0, value(m, SWITCHES, "cgroup", "a.slice/c.slice"));
        assertEquals(2.0, value(m, SWITCHES, "cgroup", "a.slice/b.service"));
    }

    @Test
    void includeAndExcludeMatchTheWholeLabelAfterTheRollUp() {
        mkdir(10, 1, "system.slice");
        mkdir(11, 10, "nginx.service");
        mkdir(12, 10, "cron.service");
        mkdir(13, 1, "user.slice");
        bpf.set(Feature.SWITCHES, 11, 1).set(Feature.SWITCHES, 12, 2).set(Feature.SWITCHES, 13, 4)
                .set(Feature.SWITCHES, 1, 8);
        List<Collector.MetricFamilySamples> m = collector(0, "system\\.slice/.*", "system\\.slice/cron.*", "pow4")
                .collect();
        assertEquals(List.of("system.slice/nginx.service"), labelValues(m, SWITCHES, "cgroup"));
        m = collector(1, "system", null, "pow4").collect();
        assertEquals(List.of(), labelValues(m, SWITCHES, "cgroup"), "a partial match is no match");
        m = collector(1, null, "user\\.slice|/", "pow4").collect();
        assertEquals(List.of("system.slice"), labelValues(m, SWITCHES, "cgroup"));
        assertEquals(3.0, value(m, SWITCHES, "cgroup", "system.slice"));
    }

    @Test
    void runqueueHistogramIsCumulativeInSeconds() {
        mkdir(10, 1, "a.service");
        // slot 0: <1us x2; slot 1: [1,2)us x3; slot 5: [16,32)us x4; slot 21: >= 2^20 us x1
        bpf.runq(10, 5_000_000_000L, 0, 2, 1, 3, 5, 4, 21, 1);
        List<Collector.MetricFamilySamples> m = collector().collect();
        String b = CgroupCollector.RUNQ_NAME + "_bucket";
        List<String> les = labelValues(m, b, "le");
        assertEquals(12, les.size());
        assertEquals("1.0E-6", les.get(0));
        assertEquals("+Inf", les.get(11));
        assertEquals(2.0, value(m, b, "cgroup", "a.service", "le", "1.0E-6"));
        assertEquals(5.0, value(m, b, "cgroup", "a.service", "le", "4.0E-6"));
        assertEquals(5.0, value(m, b, "cgroup", "a.service", "le", "1.6E-5"));
        assertEquals(9.0, value(m, b, "cgroup", "a.service", "le", "6.4E-5"));
        assertEquals(9.0, value(m, b, "cgroup", "a.service", "le", "1.048576"));
        assertEquals(10.0, value(m, b, "cgroup", "a.service", "le", "+Inf"));
        assertEquals(10.0, value(m, CgroupCollector.RUNQ_NAME + "_count", "cgroup", "a.service"));
        assertEquals(5.0, value(m, CgroupCollector.RUNQ_NAME + "_sum", "cgroup", "a.service"));
        m = collector(0, null, null, "log2").collect();
        les = labelValues(m, b, "le");
        assertEquals(22, les.size());
        assertEquals(5.0, value(m, b, "cgroup", "a.service", "le", "2.0E-6"));
        assertEquals(5.0, value(m, b, "cgroup", "a.service", "le", "1.6E-5"));
        assertEquals(9.0, value(m, b, "cgroup", "a.service", "le", "3.2E-5"));
    }

    @Test
    void neverThrowsAndCountsItsErrors() {
        CgroupCollector c = collector();
        bpf.failReads = new IllegalStateException("map gone");
        List<Collector.MetricFamilySamples> m = c.collect();
        assertEquals(1.0, value(m, "cgscope_scrape_errors_total"));
        assertEquals(1.0, value(m, "cgscope_bpf_program_up", "program", "cpu"));
        assertTrue(value(m, "cgscope_scrape_duration_seconds") >= 0);
        bpf.failReads = null;
        m = c.collect();
        assertEquals(1.0, value(m, "cgscope_scrape_errors_total"));
    }

    @Test
    void specialCharactersAreEscapedByTheExpositionFormats() throws Exception {
        mkdir(10, 1, "we\"ird\\name\nx");
        bpf.set(Feature.SWITCHES, 10, 1);
        CollectorRegistry registry = new CollectorRegistry();
        collector().register(registry);
        StringWriter text = new StringWriter();
        TextFormat.write004(text, registry.metricFamilySamples());
        assertTrue(text.toString().contains("cgscope_cgroup_context_switches_total{cgroup=\"we\\\"ird\\\\name\\nx\",} 1.0"),
                text.toString());
        StringWriter om = new StringWriter();
        TextFormat.writeOpenMetrics100(om, registry.metricFamilySamples());
        assertTrue(om.toString().contains("cgscope_cgroup_context_switches_total{cgroup=\"we\\\"ird\\\\name\\nx\"} 1.0"),
                om.toString());
    }
}
