package io.cgscope.programs;

import io.cgscope.bpf.RawTable;
import io.cgscope.config.Config;
import io.cgscope.config.ProgramConfig;
import io.cgscope.config.ProgramConfigs;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One user metric on hand-built map rows and a hand-fed index: keys as labels, the cgroup decoder
 * as the built-in metrics name cgroups (paths, /unknown, roll-up, filters, folding at the end of
 * the retention, ids named late), histograms, per-CPU maps, decoder errors, workload labels.
 */
class UserMetricTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);

    private final FakeTicker ticker = new FakeTicker();
    private final AtomicLong nanos = new AtomicLong(1_000);
    private CgroupIndex index;

    /** A map: key bytes (hex) -> values (one, or one per CPU), and the keys deleted from it. */
    static final class FakeRows implements UserMetric.Rows {
        final Map<String, long[]> entries = new LinkedHashMap<>();
        final List<String> deleted = new ArrayList<>();
        int keySize;
        int cpus = 1;

        FakeRows(int keySize) {
            this.keySize = keySize;
        }

        FakeRows set(byte[] key, long... values) {
            entries.put(HexFormat.of().formatHex(key), values);
            return this;
        }

        @Override
        public void read(RawTable into) {
            into.reset(keySize, cpus);
            for (Map.Entry<String, long[]> e : entries.entrySet()) {
                into.put(HexFormat.of().parseHex(e.getKey()), e.getValue());
            }
        }

        @Override
        public void delete(byte[] key) {
            String k = HexFormat.of().formatHex(key);
            deleted.add(k);
            entries.remove(k);
        }
    }

    @BeforeEach
    void setUp() {
        index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.root(1);
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

    static byte[] key(long... u64s) {
        ByteBuffer b = ByteBuffer.allocate(8 * u64s.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : u64s) {
            b.putLong(v);
        }
        return b.array();
    }

    private static ProgramConfig.Metric metric(String yaml) throws Exception {
        return ProgramConfigs.parse("t", Path.of("t.yaml"), Path.of("t.bpf.o"), yaml).metrics().getFirst();
    }

    /** A metric, its namer (shared when several metrics scrape together) and a scrape function. */
    private final class Fixture {
        final UserMetric metric;
        final CgroupNamer namer;
        UserMetric.Stats stats;

        Fixture(String yaml, boolean splitCpus, CgroupLabels labels, UnaryOperator<String> display) throws Exception {
            metric = new UserMetric("t", metric(yaml), "p_", DecodersTest.host(), splitCpus);
            namer = new CgroupNamer(index, labels, display, RETENTION, nanos::get);
        }

        /** With {@code --metrics.workload-labels}, workloads named from paths alone. */
        Fixture(String yaml, List<String> workloadLabels) throws Exception {
            this(yaml, workloadLabels, Config.RollUp.NONE);
        }

        /** With {@code --metrics.workload-labels} and {@code --cgroup.roll-up}. */
        Fixture(String yaml, List<String> workloadLabels, Config.RollUp rollUp) throws Exception {
            metric = new UserMetric("t", metric(yaml), "p_", DecodersTest.host(), false, workloadLabels);
            namer = new CgroupNamer(index, new CgroupLabels(0, null, null), WorkloadResolver.pathsOnly(),
                    workloadLabels, rollUp, true, UnaryOperator.identity(), RETENTION, nanos::get);
        }

        MetricFamilySamples scrape(FakeRows rows) throws Exception {
            stats = new UserMetric.Stats();
            namer.begin();
            try {
                return metric.collect(rows, namer, stats);
            } finally {
                namer.end();
            }
        }
    }

    private static final String CGROUP_COUNTER = """
            metrics:
              counters:
                - name: execs_total
                  help: h
                  labels:
                    - {name: cgroup, size: 8, decoders: [{name: uint}, {name: cgroup}]}
            """;

    private Fixture cgroupCounter() throws Exception {
        return new Fixture(CGROUP_COUNTER, false, new CgroupLabels(0, null, null), UnaryOperator.identity());
    }

    static Double value(MetricFamilySamples f, String sample, String... labels) {
        for (MetricFamilySamples.Sample s : f.samples) {
            if (!s.name.equals(sample) || s.labelNames.size() != labels.length / 2) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < labels.length; i += 2) {
                int at = s.labelNames.indexOf(labels[i]);
                match &= at >= 0 && s.labelValues.get(at).equals(labels[i + 1]);
            }
            if (match) {
                return s.value;
            }
        }
        return null;
    }

    @Test
    void cgroupIdsAreNamedAsTheBuiltInMetricsNameThem() throws Exception {
        mkdir(10, 1, "system.slice");
        mkdir(11, 10, "nginx.service");
        Fixture f = cgroupCounter();
        FakeRows rows = new FakeRows(8).set(key(1), 4).set(key(11), 7);
        MetricFamilySamples m = f.scrape(rows);
        assertEquals("p_execs", m.name, "a counter's family: its samples carry _total");
        assertEquals(Collector.Type.COUNTER, m.type);
        assertEquals(4.0, value(m, "p_execs_total", "cgroup", "/"));
        assertEquals(7.0, value(m, "p_execs_total", "cgroup", "system.slice/nginx.service"));
        assertTrue(f.stats.unresolved.isEmpty());
    }

    @Test
    void idsWithTheSamePathAreOneSeries() throws Exception {
        mkdir(10, 1, "a.service");
        rmdir(10, 1, "a.service");
        mkdir(12, 1, "a.service");
        MetricFamilySamples m = cgroupCounter().scrape(new FakeRows(8).set(key(10), 7).set(key(12), 5));
        assertEquals(12.0, value(m, "p_execs_total", "cgroup", "a.service"));
        assertEquals(1, m.samples.size());
    }

    @Test
    void anExpiredCgroupIsFoldedAndDeletedSoTheSeriesNeverDecreases() throws Exception {
        Fixture f = cgroupCounter();
        mkdir(10, 1, "a.service");
        rmdir(10, 1, "a.service");
        mkdir(12, 1, "a.service");
        FakeRows rows = new FakeRows(8).set(key(10), 7).set(key(12), 5);
        assertEquals(12.0, value(f.scrape(rows), "p_execs_total", "cgroup", "a.service"),
                "the dead id is named from the retained entry");
        expireRetained();
        rows.set(key(12), 6);
        assertEquals(13.0, value(f.scrape(rows), "p_execs_total", "cgroup", "a.service"));
        assertEquals(List.of(HexFormat.of().formatHex(key(10))), rows.deleted, "the folded key is deleted");
        rows.set(key(12), 9);
        assertEquals(16.0, value(f.scrape(rows), "p_execs_total", "cgroup", "a.service"));
    }

    @Test
    void aSeriesEndsWhenNoIdOfItsPathIsLeft() throws Exception {
        Fixture f = cgroupCounter();
        mkdir(10, 1, "gone.service");
        FakeRows rows = new FakeRows(8).set(key(10), 3);
        rmdir(10, 1, "gone.service");
        assertEquals(3.0, value(f.scrape(rows), "p_execs_total", "cgroup", "gone.service"), "retained: shown");
        expireRetained();
        MetricFamilySamples m = f.scrape(rows);
        assertNull(value(m, "p_execs_total", "cgroup", "gone.service"));
        assertEquals(1, rows.deleted.size());
    }

    @Test
    void aCgroupThatDiedAndExpiredBetweenTwoScrapesIsNotCountedAsUnknown() throws Exception {
        Fixture f = cgroupCounter();
        FakeRows rows = new FakeRows(8);
        f.scrape(rows);
        mkdir(10, 1, "brief.service");
        rows.set(key(10), 4);
        rmdir(10, 1, "brief.service");
        expireRetained();
        MetricFamilySamples m = f.scrape(rows);
        assertNull(value(m, "p_execs_total", "cgroup", "/unknown"));
        assertTrue(f.stats.unresolved.isEmpty());
        assertEquals(1, rows.deleted.size(), "folded and deleted");
    }

    @Test
    void unresolvedIdsAreOneUnknownSeriesThenFoldedAfterTheRetention() throws Exception {
        Fixture f = cgroupCounter();
        FakeRows rows = new FakeRows(8).set(key(500), 4).set(key(501), 6);
        MetricFamilySamples m = f.scrape(rows);
        assertEquals(10.0, value(m, "p_execs_total", "cgroup", "/unknown"));
        assertEquals(2, f.stats.unresolved.size());
        nanos.addAndGet(RETENTION.plusSeconds(1).toNanos());
        rows.set(key(500), 5);
        assertEquals(11.0, value(f.scrape(rows), "p_execs_total", "cgroup", "/unknown"));
        assertEquals(2, rows.deleted.size());
        m = f.scrape(rows);
        assertEquals(11.0, value(m, "p_execs_total", "cgroup", "/unknown"), "folded: kept after the keys went");
        assertTrue(f.stats.unresolved.isEmpty());
    }

    @Test
    void anIdNamedLateLeavesWhatItHadInUnknown() throws Exception {
        Fixture f = cgroupCounter();
        FakeRows rows = new FakeRows(8).set(key(50), 3);
        assertEquals(3.0, value(f.scrape(rows), "p_execs_total", "cgroup", "/unknown"));
        mkdir(50, 1, "late.service");
        rows.set(key(50), 5);
        MetricFamilySamples m = f.scrape(rows);
        assertEquals(5.0, value(m, "p_execs_total", "cgroup", "/unknown"));
        assertEquals(0.0, value(m, "p_execs_total", "cgroup", "late.service"));
        rows.set(key(50), 8);
        m = f.scrape(rows);
        assertEquals(5.0, value(m, "p_execs_total", "cgroup", "/unknown"));
        assertEquals(3.0, value(m, "p_execs_total", "cgroup", "late.service"));
    }

    @Test
    void rollUpIncludeExcludeAndAbsolutePaths() throws Exception {
        mkdir(10, 1, "system.slice");
        mkdir(11, 10, "nginx.service");
        mkdir(12, 10, "cron.service");
        mkdir(13, 1, "user.slice");
        FakeRows rows = new FakeRows(8).set(key(11), 1).set(key(12), 2).set(key(13), 4).set(key(1), 8);
        MetricFamilySamples m = new Fixture(CGROUP_COUNTER, false, new CgroupLabels(1, null, null),
                UnaryOperator.identity()).scrape(rows);
        assertEquals(3.0, value(m, "p_execs_total", "cgroup", "system.slice"), "rolled up to depth 1");
        assertEquals(8.0, value(m, "p_execs_total", "cgroup", "/"));
        m = new Fixture(CGROUP_COUNTER, false, new CgroupLabels(0, Pattern.compile("system\\.slice/.*"),
                Pattern.compile("system\\.slice/cron.*")), UnaryOperator.identity()).scrape(rows);
        assertEquals(1, m.samples.size());
        assertEquals(1.0, value(m, "p_execs_total", "cgroup", "system.slice/nginx.service"));
        UnaryOperator<String> absolute = l -> l.equals("/") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + l;
        rows.set(key(999), 16);
        m = new Fixture(CGROUP_COUNTER, false, new CgroupLabels(0, null, null), absolute).scrape(rows);
        assertEquals(1.0, value(m, "p_execs_total", "cgroup", "/sys/fs/cgroup/system.slice/nginx.service"));
        assertEquals(8.0, value(m, "p_execs_total", "cgroup", "/sys/fs/cgroup"), "the root: the mount point");
        assertEquals(16.0, value(m, "p_execs_total", "cgroup", "/unknown"), "unknown ids: still one series");
    }

    @Test
    void decodersAfterTheCgroupDecoderSeeTheName() throws Exception {
        mkdir(10, 1, "system.slice");
        mkdir(11, 10, "nginx.service");
        mkdir(12, 1, "user.slice");
        Fixture f = new Fixture("""
                metrics:
                  counters:
                    - name: x_total
                      help: h
                      labels:
                        - {name: unit, size: 8, decoders: [{name: uint}, {name: cgroup}, {name: regexp, regexps: ["^system\\\\.slice/(.*)$"]}]}
                """, false, new CgroupLabels(0, null, null), UnaryOperator.identity());
        MetricFamilySamples m = f.scrape(new FakeRows(8).set(key(11), 2).set(key(12), 3));
        assertEquals(2.0, value(m, "p_x_total", "unit", "nginx.service"));
        assertEquals(1, m.samples.size(), "user.slice matched no pattern: skipped");
    }

    @Test
    void aCgroupLabelBesideOthers() throws Exception {
        mkdir(11, 1, "dd.service");
        Fixture f = new Fixture("""
                metrics:
                  counters:
                    - name: syscalls_total
                      help: h
                      labels:
                        - {name: cgroup, size: 8, decoders: [{name: uint}, {name: cgroup}]}
                        - {name: syscall, size: 8, decoders: [{name: uint}, {name: syscall}]}
                """, false, new CgroupLabels(0, null, null), UnaryOperator.identity());
        FakeRows rows = new FakeRows(16).set(key(11, 1), 200).set(key(11, 0), 3).set(key(77, 1), 5);
        MetricFamilySamples m = f.scrape(rows);
        assertEquals(200.0, value(m, "p_syscalls_total", "cgroup", "dd.service", "syscall", "write"));
        assertEquals(3.0, value(m, "p_syscalls_total", "cgroup", "dd.service", "syscall", "read"));
        assertEquals(5.0, value(m, "p_syscalls_total", "cgroup", "/unknown", "syscall", "write"));
        rmdir(11, 1, "dd.service");
        expireRetained();
        rows.set(key(11, 1), 210);
        m = f.scrape(rows);
        assertNull(value(m, "p_syscalls_total", "cgroup", "dd.service", "syscall", "write"),
                "no id of the path is left: its series end, as the built-in ones do");
        assertEquals(5.0, value(m, "p_syscalls_total", "cgroup", "/unknown", "syscall", "write"));
        assertEquals(2, rows.deleted.size(), "both keys of the expired id");
    }

    @Test
    void histogramsAreCumulativeWithSumAndCount() throws Exception {
        mkdir(11, 1, "dd.service");
        Fixture f = new Fixture("""
                metrics:
                  histograms:
                    - name: write_size_bytes
                      help: h
                      bucket_type: exp2
                      bucket_min: 0
                      bucket_max: 3
                      bucket_multiplier: 0.5
                      labels:
                        - {name: cgroup, size: 8, decoders: [{name: uint}, {name: cgroup}]}
                        - {name: bucket, size: 8, decoders: [{name: uint}]}
                """, false, new CgroupLabels(0, null, null), UnaryOperator.identity());
        FakeRows rows = new FakeRows(16).set(key(11, 0), 1).set(key(11, 2), 4).set(key(11, 3), 2)
                .set(key(11, 4), 40)   // the sum key: bucket_max + 1
                .set(key(11, 9), 1000); // outside: ignored
        MetricFamilySamples m = f.scrape(rows);
        assertEquals(Collector.Type.HISTOGRAM, m.type);
        assertEquals("p_write_size_bytes", m.name);
        assertEquals(1.0, value(m, "p_write_size_bytes_bucket", "cgroup", "dd.service", "le", "0.5"));
        assertEquals(1.0, value(m, "p_write_size_bytes_bucket", "cgroup", "dd.service", "le", "1"));
        assertEquals(5.0, value(m, "p_write_size_bytes_bucket", "cgroup", "dd.service", "le", "2"));
        assertEquals(7.0, value(m, "p_write_size_bytes_bucket", "cgroup", "dd.service", "le", "4"));
        assertEquals(7.0, value(m, "p_write_size_bytes_bucket", "cgroup", "dd.service", "le", "+Inf"));
        assertEquals(7.0, value(m, "p_write_size_bytes_count", "cgroup", "dd.service"));
        assertEquals(20.0, value(m, "p_write_size_bytes_sum", "cgroup", "dd.service"), "the sum key x the multiplier");
        assertEquals(4 + 3, m.samples.size(), "4 buckets, +Inf, count, sum");
    }

    @Test
    void perCpuMapsSplitByTheCpuLabelOrSummed() throws Exception {
        Fixture split = new Fixture("""
                metrics:
                  counters:
                    - name: softirqs_total
                      help: h
                      labels:
                        - {name: vec, size: 4, decoders: [{name: uint}, {name: static_map, static_map: {1: TIMER_SOFTIRQ}}]}
                        - {name: cpu, size: 2, decoders: [{name: uint}]}
                """, true, new CgroupLabels(0, null, null), UnaryOperator.identity());
        FakeRows rows = new FakeRows(4);
        rows.cpus = 2;
        rows.set(new byte[] {1, 0, 0, 0}, 5, 7);
        MetricFamilySamples m = split.scrape(rows);
        assertEquals(5.0, value(m, "p_softirqs_total", "vec", "TIMER_SOFTIRQ", "cpu", "0"));
        assertEquals(7.0, value(m, "p_softirqs_total", "vec", "TIMER_SOFTIRQ", "cpu", "1"));
        Fixture cpuOnly = new Fixture("""
                metrics:
                  counters:
                    - name: samples_total
                      help: h
                      labels:
                        - {name: cpu, size: 2, decoders: [{name: uint}]}
                """, true, new CgroupLabels(0, null, null), UnaryOperator.identity());
        FakeRows array = new FakeRows(4);
        array.cpus = 2;
        array.set(new byte[4], 11, 13);
        m = cpuOnly.scrape(array);
        assertEquals(11.0, value(m, "p_samples_total", "cpu", "0"), "the array's key u32 0 is dropped");
        assertEquals(13.0, value(m, "p_samples_total", "cpu", "1"));
    }

    @Test
    void aMetricWithoutLabelsReadsTheKeyZeroAndKeepsItsNameUntyped() throws Exception {
        Fixture f = new Fixture("metrics: {counters: [{name: bpf_jit_pages_currently_allocated, help: h}]}", false,
                new CgroupLabels(0, null, null), UnaryOperator.identity());
        MetricFamilySamples m = f.scrape(new FakeRows(4).set(new byte[4], 12));
        assertEquals(Collector.Type.UNKNOWN, m.type, "no _total: untyped, so the name stays as configured");
        assertEquals("p_bpf_jit_pages_currently_allocated", m.name);
        assertEquals(12.0, value(m, "p_bpf_jit_pages_currently_allocated"));
        m = f.scrape(new FakeRows(4).set(new byte[] {1, 0, 0, 0}, 12));
        assertEquals(0, m.samples.size());
        assertEquals(1, f.stats.decoderErrors, "another key: a decoder error");
    }

    @Test
    void decoderErrorsAreCountedAtEachScrapeAndSkipped() throws Exception {
        Fixture f = new Fixture("""
                metrics:
                  counters:
                    - name: x_total
                      help: h
                      labels:
                        - {name: a, size: 3, decoders: [{name: uint}]}
                        - {name: b, size: 4, padding: 1, decoders: [{name: uint}]}
                """, false, new CgroupLabels(0, null, null), UnaryOperator.identity());
        FakeRows rows = new FakeRows(8).set(key(1), 1);
        assertEquals(0, f.scrape(rows).samples.size());
        assertEquals(1, f.stats.decoderErrors);
        assertTrue(f.stats.firstError.contains("label a: uint: a field of 3 bytes is not an integer"), f.stats.firstError);
        f.scrape(rows);
        assertEquals(1, f.stats.decoderErrors, "again at the next scrape that reads it");
        FakeRows wrong = new FakeRows(12).set(new byte[12], 1);
        f.scrape(wrong);
        assertTrue(f.stats.firstError.contains("the key is 12 bytes, the labels describe 8"), f.stats.firstError);
    }

    @Test
    void paddingIsSkipped() throws Exception {
        Fixture f = new Fixture("""
                metrics:
                  counters:
                    - name: x_total
                      help: h
                      labels:
                        - {name: dev, size: 4, decoders: [{name: uint}]}
                        - {name: op, size: 1, padding: 3, decoders: [{name: uint}]}
                        - {name: slot, size: 8, decoders: [{name: uint}]}
                """, false, new CgroupLabels(0, null, null), UnaryOperator.identity());
        byte[] k = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(7).put((byte) 3)
                .put(new byte[] {9, 9, 9}).putLong(42).array();
        MetricFamilySamples m = f.scrape(new FakeRows(16).set(k, 5));
        assertEquals(5.0, value(m, "p_x_total", "dev", "7", "op", "3", "slot", "42"));
    }

    private static final String UID = "3f2a6d1e-7b4c-4e2a-9f10-8c5d2e7a1b90";
    private static final String CID = "9c1e5b4f3f7d2a8e6b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6";

    /** kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope as id 23. */
    private String container() {
        mkdir(20, 1, "kubepods.slice");
        mkdir(21, 20, "kubepods-burstable.slice");
        mkdir(22, 21, "kubepods-burstable-pod" + UID.replace('-', '_') + ".slice");
        mkdir(23, 22, "cri-containerd-" + CID + ".scope");
        return "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_')
                + ".slice/cri-containerd-" + CID + ".scope";
    }

    @Test
    void aCgroupLabelBringsTheWorkloadLabelsOfTheBuiltInFamilies() throws Exception {
        String path = container();
        mkdir(10, 1, "system.slice");
        Fixture f = new Fixture(CGROUP_COUNTER, List.of("kind", "pod_uid", "container_id", "qos_class"));
        FakeRows rows = new FakeRows(8).set(key(23), 5).set(key(10), 2).set(key(999), 1);
        MetricFamilySamples m = f.scrape(rows);
        assertEquals(5.0, value(m, "p_execs_total", "cgroup", path, "kind", "container", "pod_uid", UID,
                "container_id", CID, "qos_class", "burstable"));
        // labels without a value are left out, as the built-in families leave them out
        assertEquals(2.0, value(m, "p_execs_total", "cgroup", "system.slice", "kind", "slice"));
        assertEquals(1.0, value(m, "p_execs_total", "cgroup", CgroupLabels.UNKNOWN, "kind", "other"));
        // the next scrape: the same label sets, the same values
        rows.set(key(23), 8);
        MetricFamilySamples again = f.scrape(rows);
        assertEquals(3, again.samples.size());
        assertEquals(8.0, value(again, "p_execs_total", "cgroup", path, "kind", "container", "pod_uid", UID,
                "container_id", CID, "qos_class", "burstable"));
    }

    @Test
    void aLabelOfTheConfigsOwnIsNotDoubledAndNoCgroupLabelGetsNone() throws Exception {
        String path = container();
        Fixture own = new Fixture("""
                metrics:
                  histograms:
                    - name: sizes
                      help: h
                      bucket_type: exp2
                      bucket_min: 0
                      bucket_max: 1
                      labels:
                        - {name: kind, size: 8, decoders: [{name: uint}, {name: cgroup}]}
                        - {name: bucket, size: 8, decoders: [{name: uint}]}
                """, List.of("kind", "pod_uid"));
        MetricFamilySamples m = own.scrape(new FakeRows(16).set(key(23, 1), 3));
        assertEquals(List.of("kind", "pod_uid", "le"), m.samples.getFirst().labelNames);
        assertEquals(3.0, value(m, "p_sizes_count", "kind", path, "pod_uid", UID));
        assertEquals(3.0, value(m, "p_sizes_bucket", "kind", path, "pod_uid", UID, "le", "+Inf"));
        mkdir(10, 1, "system.slice");
        MetricFamilySamples bare = own.scrape(new FakeRows(16).set(key(10, 1), 2));
        assertEquals(2.0, value(bare, "p_sizes_bucket", "kind", "system.slice", "le", "+Inf"), "no pod_uid there");
        Fixture none = new Fixture("""
                metrics:
                  counters:
                    - name: calls_total
                      help: h
                      labels:
                        - {name: id, size: 8, decoders: [{name: uint}]}
                """, List.of("kind", "pod_uid"));
        MetricFamilySamples n = none.scrape(new FakeRows(8).set(key(23), 4));
        assertEquals(List.of("id"), n.samples.getFirst().labelNames);
    }

    @Test
    void podRollUpSumsAPodsContainersIntoThePodsSeriesAsTheBuiltInFamiliesDo() throws Exception {
        String container = container();
        String pod = container.substring(0, container.lastIndexOf('/'));
        String other = "cri-containerd-" + "0".repeat(63) + "1.scope";
        mkdir(24, 22, other);
        mkdir(10, 1, "system.slice");
        Fixture f = new Fixture(CGROUP_COUNTER, List.of("pod_uid"), Config.RollUp.POD);
        MetricFamilySamples m = f.scrape(new FakeRows(8).set(key(23), 5).set(key(24), 6).set(key(22), 1)
                .set(key(10), 2));
        assertEquals(12.0, value(m, "p_execs_total", "cgroup", pod, "pod_uid", UID), m.samples.toString());
        assertEquals(2.0, value(m, "p_execs_total", "cgroup", "system.slice"), "not in a pod: its own series");
        assertEquals(2, m.samples.size(), m.samples.toString());
    }
}
