package io.cgscope.metrics;

import io.cgscope.accounting.CgroupFiles;
import io.cgscope.accounting.Devices;
import io.cgscope.accounting.Family;
import io.cgscope.accounting.Hierarchy;
import io.cgscope.accounting.HierarchyReader;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Libc;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import static io.cgscope.metrics.MetricsText.labelValues;
import static io.cgscope.metrics.MetricsText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cgroupfs collector over a hand-made hierarchy: directories in a temporary directory with the
 * files a cgroup has, named by an index fed by hand with their real inode numbers (what the
 * reader checks). Families and labels, same-path folding, retention, roll-up, filters, absent
 * files, a cgroup gone mid-way, devices, and v1's files.
 */
class CgroupFsCollectorTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final String PRESSURE = "cgscope_cgroup_pressure_seconds_total";

    @TempDir
    Path tmp;
    private Path root;
    private Fd rootFd;
    private final FakeTicker ticker = new FakeTicker();
    private final AtomicLong nanos = new AtomicLong();
    private CgroupIndex index;
    private CgroupFsCollector collector;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectory(tmp.resolve("root"));
        rootFd = Libc.open(root.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.root(ino(root));
    }

    @AfterEach
    void tearDown() {
        if (collector != null) {
            collector.closeReaders();
        }
        rootFd.closeQuietly();
    }

    private static long ino(Path p) {
        try {
            return (Long) Files.getAttribute(p, "unix:ino");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path mkdir(String relative) {
        try {
            Path dir = Files.createDirectories(root.resolve(relative));
            Path parent = dir.getParent();
            index.created(ino(dir), ino(parent), dir.getFileName().toString().getBytes(StandardCharsets.UTF_8),
                    Source.EVENT);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Removes a cgroup: its directory is moved out of the hierarchy, not deleted, so that the file
     * system cannot give its inode number to the next directory (cgroup ids are never reused).
     */
    private void rmdir(Path dir) {
        long id = ino(dir);
        long parent = ino(dir.getParent());
        try {
            Files.move(dir, tmp.resolve("gone-" + id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        index.deleted(id, parent, dir.getFileName().toString().getBytes(StandardCharsets.UTF_8), Source.EVENT);
    }

    private static void write(Path dir, String file, String content) {
        try {
            Files.writeString(dir.resolve(file), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void pressure(Path dir, String resource, long some, long full) {
        write(dir, resource + ".pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=" + some
                + "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=" + full + "\n");
    }

    private CgroupFsCollector collector(CgroupFiles.Version version, Set<Family> families, int maxDepth, String include,
                                        String exclude, Path sysDevBlock) {
        collector = new CgroupFsCollector(families, new CgroupLabels(maxDepth,
                include == null ? null : Pattern.compile(include), exclude == null ? null : Pattern.compile(exclude)),
                RETENTION, new Devices(sysDevBlock, nanos::get), nanos::get);
        Set<String> controllers = Set.of("cpu", "memory", "io", "pids", "blkio");
        Hierarchy h = new Hierarchy("test", version, rootFd, index, controllers);
        collector.add(new HierarchyReader(h, families, collector::label), families);
        return collector;
    }

    private CgroupFsCollector collector() {
        return collector(CgroupFiles.Version.V2, EnumSet.allOf(Family.class), 0, null, null, tmp.resolve("no-sys"));
    }

    private static Double v(List<Collector.MetricFamilySamples> m, String name, String... labels) {
        return value(m, name, labels);
    }

    private void expireRetained() {
        ticker.advance(RETENTION.plusSeconds(1));
        index.maintain();
    }

    @Test
    void everyFamilyOfACgroup2Directory() {
        Path a = mkdir("a.slice");
        pressure(a, "cpu", 2_500_000, 1_000_000);
        pressure(a, "memory", 0, 0);
        pressure(a, "io", 78, 78);
        write(a, "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 300\nnr_throttled 20\n"
                + "throttled_usec 1500000\nnr_bursts 0\nburst_usec 0\n");
        write(a, "cpu.max", "150000 100000\n");
        write(a, "memory.current", "4194304\n");
        write(a, "memory.peak", "8388608\n");
        write(a, "memory.max", "1073741824\n");
        write(a, "memory.events", "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
        write(a, "memory.stat", "anon 1048576\nfile 2097152\nkernel 409600\nkernel_stack 16384\nsock 4096\n"
                + "shmem 8192\ninactive_file 1572864\nactive_file 524288\n");
        write(a, "io.stat", "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n");
        write(a, "pids.current", "3\n");
        write(a, "pids.max", "max\n");
        List<Collector.MetricFamilySamples> m = collector().collect();
        assertEquals(2.5, v(m, PRESSURE, "cgroup", "a.slice", "resource", "cpu", "kind", "some"));
        assertEquals(1.0, v(m, PRESSURE, "cgroup", "a.slice", "resource", "cpu", "kind", "full"));
        assertEquals(78e-6, v(m, PRESSURE, "cgroup", "a.slice", "resource", "io", "kind", "full"));
        assertNull(v(m, PRESSURE, "cgroup", "a.slice", "resource", "irq", "kind", "full"), "no irq.pressure: absent");
        assertEquals(300.0, v(m, "cgscope_cgroup_cpu_periods_total", "cgroup", "a.slice"));
        assertEquals(20.0, v(m, "cgscope_cgroup_cpu_throttled_periods_total", "cgroup", "a.slice"));
        assertEquals(1.5, v(m, "cgscope_cgroup_cpu_throttled_seconds_total", "cgroup", "a.slice"));
        assertEquals(1.5, v(m, "cgscope_cgroup_cpu_limit_cores", "cgroup", "a.slice"));
        assertEquals(4194304.0, v(m, "cgscope_cgroup_memory_bytes", "cgroup", "a.slice"));
        assertEquals(4194304.0 - 1572864, v(m, "cgscope_cgroup_memory_working_set_bytes", "cgroup", "a.slice"));
        assertEquals(8388608.0, v(m, "cgscope_cgroup_memory_peak_bytes", "cgroup", "a.slice"));
        assertEquals(1073741824.0, v(m, "cgscope_cgroup_memory_limit_bytes", "cgroup", "a.slice"));
        assertEquals(12.0, v(m, "cgscope_cgroup_memory_events_total", "cgroup", "a.slice", "event", "high"));
        assertEquals(1.0, v(m, "cgscope_cgroup_memory_events_total", "cgroup", "a.slice", "event", "oom_kill"));
        assertEquals(0.0, v(m, "cgscope_cgroup_memory_events_total", "cgroup", "a.slice", "event", "oom_group_kill"));
        assertEquals(409600.0, v(m, "cgscope_cgroup_memory_stat_bytes", "cgroup", "a.slice", "type", "kernel"));
        assertEquals(4096.0, v(m, "cgscope_cgroup_memory_stat_bytes", "cgroup", "a.slice", "type", "sock"));
        assertEquals(314773504.0, v(m, "cgscope_cgroup_io_bytes_total", "cgroup", "a.slice", "device", "8:16",
                "op", "write"));
        assertEquals(192.0, v(m, "cgscope_cgroup_io_operations_total", "cgroup", "a.slice", "device", "8:16",
                "op", "read"));
        assertEquals(3.0, v(m, "cgscope_cgroup_pids", "cgroup", "a.slice"));
        assertNull(v(m, "cgscope_cgroup_pids_limit", "cgroup", "a.slice"), "pids.max is max: no limit");
        assertEquals(1.0, v(m, "cgscope_cgroupfs_collector_up", "collector", "memory"));
        assertEquals(2.0, v(m, "cgscope_cgroupfs_cgroups"), "the root and a.slice");
        assertEquals(0.0, v(m, "cgscope_cgroupfs_errors_total"));
        assertTrue(labelValues(m, "cgscope_cgroup_memory_bytes", "cgroup").equals(List.of("a.slice")),
                "the root has none of the files: nothing for it");
    }

    @Test
    void aRemovedCgroupKeepsItsCountersThroughItsRetentionAndTheSamePathCountsOn() {
        CgroupFsCollector c = collector();
        Path first = mkdir("job.service");
        pressure(first, "cpu", 3_000_000, 0);
        write(first, "memory.current", "100\n");
        assertEquals(3.0, v(c.collect(), PRESSURE, "cgroup", "job.service", "resource", "cpu", "kind", "some"));
        pressure(first, "cpu", 4_000_000, 0); // not read again: the cgroup goes before the next scrape
        rmdir(first);
        List<Collector.MetricFamilySamples> gone = c.collect();
        assertEquals(3.0, v(gone, PRESSURE, "cgroup", "job.service", "resource", "cpu", "kind", "some"),
                "its last values stay");
        assertNull(v(gone, "cgscope_cgroup_memory_bytes", "cgroup", "job.service"), "gauges only while it lives");
        Path second = mkdir("job.service");
        pressure(second, "cpu", 500_000, 0);
        assertEquals(3.5, v(c.collect(), PRESSURE, "cgroup", "job.service", "resource", "cpu", "kind", "some"),
                "one series: both ids summed");
        expireRetained();
        pressure(second, "cpu", 700_000, 0);
        assertEquals(3.7, v(c.collect(), PRESSURE, "cgroup", "job.service", "resource", "cpu", "kind", "some"), 1e-9,
                "the first id folded: the series does not drop");
        assertEquals(3.7, v(c.collect(), PRESSURE, "cgroup", "job.service", "resource", "cpu", "kind", "some"), 1e-9);
        rmdir(second);
        expireRetained();
        c.collect(); // folds the second
        assertNull(v(c.collect(), PRESSURE, "cgroup", "job.service", "resource", "cpu", "kind", "some"),
                "no id of the path left: the series ends");
    }

    @Test
    void rollUpReadsOnlyCgroupsAtOrAboveTheDepthAndFiltersMatchWholeLabels() {
        Path a = mkdir("a.slice");
        Path b = mkdir("a.slice/b.service");
        Path x = mkdir("x.slice");
        write(a, "pids.current", "5\n");
        write(b, "pids.current", "2\n");
        write(x, "pids.current", "7\n");
        List<Collector.MetricFamilySamples> rolled = collector(CgroupFiles.Version.V2, EnumSet.of(Family.PIDS), 1,
                null, null, tmp).collect();
        assertEquals(5.0, v(rolled, "cgscope_cgroup_pids", "cgroup", "a.slice"),
                "hierarchical: a.slice's own value, not a sum with b.service's");
        assertNull(v(rolled, "cgscope_cgroup_pids", "cgroup", "a.slice/b.service"));
        collector.closeReaders();
        List<Collector.MetricFamilySamples> filtered = collector(CgroupFiles.Version.V2, EnumSet.of(Family.PIDS), 0,
                "a\\.slice.*", ".*/b\\.service", tmp).collect();
        assertEquals(List.of("a.slice"), labelValues(filtered, "cgscope_cgroup_pids", "cgroup"));
    }

    @Test
    void absentFilesAreSkippedAndTriedAgainLater() {
        CgroupFsCollector c = collector();
        Path a = mkdir("a");
        write(a, "pids.current", "1\n");
        List<Collector.MetricFamilySamples> m = c.collect();
        assertNull(v(m, "cgscope_cgroup_memory_bytes", "cgroup", "a"));
        write(a, "memory.current", "42\n"); // a controller enabled later
        boolean seen = false;
        for (int i = 0; i < 20 && !seen; i++) {
            seen = v(c.collect(), "cgscope_cgroup_memory_bytes", "cgroup", "a") != null;
        }
        assertTrue(seen, "an absent file is tried again within " + 20 + " scrapes");
        assertEquals(0.0, v(c.collect(), "cgscope_cgroupfs_errors_total"));
    }

    @Test
    void aPathThatNamesAnotherCgroupNowIsNotReadForTheOldId() throws Exception {
        CgroupFsCollector c = collector();
        Path a = mkdir("a");
        write(a, "pids.current", "1\n");
        assertEquals(1.0, v(c.collect(), "cgscope_cgroup_pids", "cgroup", "a"));
        // removed and made again before the index heard of it: same path, another inode (the old one
        // moved aside first, so the file system cannot hand its inode number to the new one)
        Path aside = Files.move(a, tmp.resolve("aside"));
        Files.createDirectory(a);
        write(a, "pids.current", "9\n");
        List<Collector.MetricFamilySamples> m = c.collect();
        assertNull(v(m, "cgscope_cgroup_pids", "cgroup", "a"), "the old id is gone; the new one is not indexed yet");
        assertEquals(0.0, v(m, "cgscope_cgroupfs_errors_total"), "a race, not an error");
    }

    @Test
    void devicesAreNamedWhereSysDevBlockKnowsThem() throws Exception {
        Path sys = Files.createDirectory(tmp.resolve("sys-dev-block"));
        Files.createSymbolicLink(sys.resolve("254:0"), Path.of("../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda"));
        Path a = mkdir("a");
        write(a, "io.stat", "254:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"
                + "259:3 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n");
        List<Collector.MetricFamilySamples> m = collector(CgroupFiles.Version.V2, EnumSet.of(Family.IO), 0, null, null,
                sys).collect();
        assertEquals(4096.0, v(m, "cgscope_cgroup_io_bytes_total", "cgroup", "a", "device", "254:0 vda", "op", "read"));
        assertEquals(5.0, v(m, "cgscope_cgroup_io_bytes_total", "cgroup", "a", "device", "259:3", "op", "discard"));
        assertEquals(6.0, v(m, "cgscope_cgroup_io_operations_total", "cgroup", "a", "device", "259:3", "op", "discard"));
    }

    @Test
    void v1FilesGiveTheSameFamilies() {
        Path a = mkdir("m");
        write(a, "cpu.stat", "nr_periods 11\nnr_throttled 10\nthrottled_time 485125006\nnr_bursts 0\nburst_time 0\n");
        write(a, "cpu.cfs_quota_us", "20000\n");
        write(a, "cpu.cfs_period_us", "100000\n");
        write(a, "memory.usage_in_bytes", "7979008\n");
        write(a, "memory.max_usage_in_bytes", "130383872\n");
        write(a, "memory.limit_in_bytes", "9223372036854771712\n");
        write(a, "memory.failcnt", "4\n");
        write(a, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        write(a, "memory.stat", "cache 3756032\nrss 2617344\nshmem 0\ntotal_cache 3756032\ntotal_rss 2617344\n"
                + "total_shmem 0\ntotal_inactive_file 831488\n");
        write(a, "memory.kmem.usage_in_bytes", "1400832\n");
        write(a, "blkio.throttle.io_service_bytes_recursive", "254:0 Read 4194304\n254:0 Write 4206592\n"
                + "254:0 Sync 8400896\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 8400896\nTotal 8400896\n");
        write(a, "blkio.throttle.io_serviced_recursive", "254:0 Read 64\n254:0 Write 68\n254:0 Sync 132\n"
                + "254:0 Async 0\n254:0 Discard 0\n254:0 Total 132\nTotal 132\n");
        write(a, "pids.current", "2\n");
        write(a, "pids.max", "64\n");
        List<Collector.MetricFamilySamples> m = collector(CgroupFiles.Version.V1, EnumSet.allOf(Family.class), 0, null,
                null, tmp).collect();
        assertEquals(11.0, v(m, "cgscope_cgroup_cpu_periods_total", "cgroup", "m"));
        assertEquals(0.485125006, v(m, "cgscope_cgroup_cpu_throttled_seconds_total", "cgroup", "m"), 1e-12);
        assertEquals(0.2, v(m, "cgscope_cgroup_cpu_limit_cores", "cgroup", "m"));
        assertEquals(7979008.0, v(m, "cgscope_cgroup_memory_bytes", "cgroup", "m"));
        assertEquals(7979008.0 - 831488, v(m, "cgscope_cgroup_memory_working_set_bytes", "cgroup", "m"));
        assertEquals(130383872.0, v(m, "cgscope_cgroup_memory_peak_bytes", "cgroup", "m"));
        assertNull(v(m, "cgscope_cgroup_memory_limit_bytes", "cgroup", "m"), "v1's unlimited value: no limit");
        assertEquals(4.0, v(m, "cgscope_cgroup_memory_events_total", "cgroup", "m", "event", "max"));
        assertEquals(2.0, v(m, "cgscope_cgroup_memory_events_total", "cgroup", "m", "event", "oom_kill"));
        assertNull(v(m, "cgscope_cgroup_memory_events_total", "cgroup", "m", "event", "high"), "no v1 equivalent");
        assertEquals(2617344.0, v(m, "cgscope_cgroup_memory_stat_bytes", "cgroup", "m", "type", "anon"));
        assertEquals(1400832.0, v(m, "cgscope_cgroup_memory_stat_bytes", "cgroup", "m", "type", "kernel"));
        assertNull(v(m, "cgscope_cgroup_memory_stat_bytes", "cgroup", "m", "type", "sock"), "no v1 equivalent");
        assertEquals(68.0, v(m, "cgscope_cgroup_io_operations_total", "cgroup", "m", "device", "254:0", "op", "write"));
        assertEquals(64.0, v(m, "cgscope_cgroup_pids_limit", "cgroup", "m"));
        assertNull(v(m, PRESSURE, "cgroup", "m", "resource", "cpu", "kind", "some"), "v1 has no pressure files");
    }

    @Test
    void scrapesWithinASecondShareOneReading() throws Exception {
        Path a = mkdir("a");
        write(a, "pids.current", "1\n");
        collector = new CgroupFsCollector(EnumSet.of(Family.PIDS), new CgroupLabels(0, null, null), RETENTION,
                Duration.ofMinutes(1));
        Hierarchy h = new Hierarchy("test", CgroupFiles.Version.V2, rootFd, index, Set.of("pids"));
        collector.add(new HierarchyReader(h, EnumSet.of(Family.PIDS), collector::label), EnumSet.of(Family.PIDS));
        assertEquals(1.0, v(collector.collect(), "cgscope_cgroup_pids", "cgroup", "a"));
        write(a, "pids.current", "2\n");
        assertEquals(1.0, v(collector.collect(), "cgscope_cgroup_pids", "cgroup", "a"), "the reading of a minute ago");
        collector.closeReaders();
        collector = new CgroupFsCollector(EnumSet.of(Family.PIDS), new CgroupLabels(0, null, null), RETENTION,
                Duration.ZERO);
        collector.add(new HierarchyReader(h, EnumSet.of(Family.PIDS), collector::label), EnumSet.of(Family.PIDS));
        assertEquals(2.0, v(collector.collect(), "cgscope_cgroup_pids", "cgroup", "a"));
    }

    /** --metrics.workload-labels=kind: pressure's own kind (some|full) wins; the other families keep the workload's. */
    @Test
    void aWorkloadKindLabelGivesWayToPressuresOwnKind() throws Exception {
        Path unit = mkdir("app.service");
        pressure(unit, "cpu", 3_000_000, 1_000_000);
        write(unit, "pids.current", "2\n");
        io.cgscope.config.Config config = ((io.cgscope.config.Flags.Run) io.cgscope.config.Flags.parse(
                "--metrics.workload-labels=kind")).config();
        collector = new CgroupFsCollector(EnumSet.of(Family.PRESSURE, Family.PIDS), config,
                io.cgscope.workload.WorkloadResolver.pathsOnly());
        Hierarchy h = new Hierarchy("test", CgroupFiles.Version.V2, rootFd, index, Set.of("pids"));
        collector.add(new HierarchyReader(h, EnumSet.of(Family.PRESSURE, Family.PIDS), collector::label),
                EnumSet.of(Family.PRESSURE, Family.PIDS));
        CollectorRegistry registry = new CollectorRegistry(true);
        collector.register(registry);
        StringWriter w = new StringWriter();
        TextFormat.write004(w, registry.metricFamilySamples());
        String text = w.toString();
        assertTrue(text.contains(PRESSURE + "{cgroup=\"app.service\",resource=\"cpu\",kind=\"some\",} 3.0"), text);
        assertTrue(text.contains("cgscope_cgroup_pids{cgroup=\"app.service\",kind=\"systemd-unit\",} 2.0"), text);
    }

    @Test
    void theExpositionIsValidTextWithEveryFamily() throws Exception {
        Path a = mkdir("a \"quoted\"\\name");
        pressure(a, "cpu", 1, 1);
        write(a, "pids.current", "1\n");
        CollectorRegistry registry = new CollectorRegistry(true);
        collector().register(registry);
        StringWriter w = new StringWriter();
        TextFormat.write004(w, registry.metricFamilySamples());
        assertTrue(w.toString().contains("cgroup=\"a \\\"quoted\\\"\\\\name\""), w.toString());
    }
}
