package io.cgscope.metrics;

import io.cgscope.CgroupFsComponent;
import io.cgscope.accounting.CgroupFiles;
import io.cgscope.accounting.Family;
import io.cgscope.accounting.Hierarchy;
import io.cgscope.accounting.HierarchyReader;
import io.cgscope.accounting.PressureFile;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Libc;
import io.cgscope.testing.Await;
import io.cgscope.testing.ControllerCgroups;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.prometheus.client.Collector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.cgscope.metrics.MetricsText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cgroupfs collectors against the real kernel: real cgroups with real processes in them, the
 * kernel's own files as the truth. Pressure is read in cgroup2; CPU throttling, memory, pids and
 * IO where this host has their controllers (v1 hierarchies on the test machine, cgroup2
 * elsewhere), through an index of that hierarchy ({@link ControllerCgroups}).
 */
@KernelTest
class CgroupFsKernelTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final Duration LONG_WAIT = Duration.ofSeconds(60);
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            p.onExit().join();
        }
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private Process track(Process p) {
        processes.add(p);
        return p;
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closing.add(c);
        return c;
    }

    private static String read(Path file) {
        try {
            return Files.readAllLines(file).stream().reduce("", (a, b) -> a + b + "\n"); // not readString: KERNEL.md
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long key(Path file, String key) {
        for (String line : read(file).split("\n")) {
            String[] f = line.split(" ");
            if (f.length == 2 && f[0].equals(key)) {
                return Long.parseLong(f[1]);
            }
        }
        throw new AssertionError("no " + key + " in " + file + ":\n" + read(file));
    }

    private static long someTotal(Path file) {
        long[] out = new long[2];
        byte[] b = read(file).getBytes();
        assertTrue((PressureFile.parse(b, b.length, out, 0) & 1) != 0, file + " has no some line");
        return out[0];
    }

    private static long single(Path file) {
        return Long.parseLong(read(file).strip());
    }

    /** A collector of these families over the hierarchy of {@code cg}, synced before each scrape. */
    private CgroupFsCollector collector(ControllerCgroups cg, Set<Family> families) {
        Fd root;
        try {
            root = Libc.open(cg.mount().toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        closeLater(root::closeQuietly);
        CgroupFsCollector c = new CgroupFsCollector(families, new CgroupLabels(0, null, null), RETENTION, Duration.ZERO);
        Hierarchy h = new Hierarchy(cg.toString(), cg.isV1() ? CgroupFiles.Version.V1 : CgroupFiles.Version.V2, root,
                cg.index(), Set.of("cpu", "memory", "pids", "io", "blkio"));
        c.add(new HierarchyReader(h, families, c::label), families);
        closeLater(c::closeReaders);
        return c;
    }

    private static List<Collector.MetricFamilySamples> scrape(ControllerCgroups cg, CgroupFsCollector c) {
        cg.sync();
        List<Collector.MetricFamilySamples> m = c.collect();
        assertEquals(0.0, value(m, "cgscope_cgroupfs_errors_total"), "no read failed");
        return m;
    }

    private ControllerCgroups cgroups(String controller) {
        ControllerCgroups cg = ControllerCgroups.of(controller).orElse(null);
        assumeTrue(cg != null, "this host has the " + controller + " controller neither in a v1 hierarchy nor"
                + " enabled in cgroup2");
        return closeLater(cg);
    }

    /** nproc x 2 busy loops in one cgroup: some of its tasks wait for a CPU all the time. */
    @Test
    void pressureSomeRisesAsTheFileSaysOverTheSameWindow() {
        ControllerCgroups cg = cgroups(ControllerCgroups.PRESSURE);
        Path dir = cg.create("busy.service");
        Path file = dir.resolve("cpu.pressure");
        assumeTrue(Files.exists(file), "no cpu.pressure: the kernel has no pressure stall information (CONFIG_PSI,"
                + " psi=1)");
        CgroupFsCollector c = collector(cg, EnumSet.of(Family.PRESSURE));
        String label = cg.parentPath() + "/busy.service";
        int loops = 2 * Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < loops; i++) {
            track(ControllerCgroups.start(dir, "exec sh -c 'while :; do :; done'"));
        }
        Await.until(LONG_WAIT, () -> someTotal(file) > 200_000, () -> "no cpu pressure after " + loops + " loops");
        long f1 = someTotal(file);
        Double s1 = value(scrape(cg, c), "cgscope_cgroup_pressure_seconds_total", "cgroup", label, "resource", "cpu",
                "kind", "some");
        long f2 = someTotal(file);
        Await.until(LONG_WAIT, () -> someTotal(file) > f2 + 1_000_000, () -> "cpu pressure stopped rising");
        long f3 = someTotal(file);
        Double s2 = value(scrape(cg, c), "cgscope_cgroup_pressure_seconds_total", "cgroup", label, "resource", "cpu",
                "kind", "some");
        long f4 = someTotal(file);
        assertNotNull(s1);
        assertNotNull(s2);
        // the scrapes' window lies between the file's inner (f3 - f2) and outer (f4 - f1) windows
        double scraped = s2 - s1;
        double inner = (f3 - f2) / 1e6;
        double outer = (f4 - f1) / 1e6;
        System.out.printf(java.util.Locale.ROOT, "pressure some: scraped %.6f s, the file %.6f..%.6f s%n", scraped,
                inner, outer);
        // Within 2% of the file's own delta over the same window: the window the scrapes read in
        // lies between the inner and the outer one (a scrape takes time; on a loaded machine they
        // differ by more than 2%), so the scraped delta must lie between them, give or take 2%.
        assertTrue(scraped >= inner * 0.98 && scraped <= outer * 1.02,
                "some rose by " + scraped + " s in the scrapes, " + inner + ".." + outer + " s in the file");
    }

    /** A busy loop under a 0.2-CPU quota: throttled in nearly every period, as the kernel's cpu.stat says. */
    @Test
    void throttlingMatchesTheKernelsCpuStat() {
        ControllerCgroups cg = cgroups("cpu");
        Path dir = cg.create("limited.service");
        String quotaFile = cg.isV1() ? "cpu.cfs_quota_us" : "cpu.max";
        write(dir.resolve(quotaFile), cg.isV1() ? "20000" : "20000 100000");
        CgroupFsCollector c = collector(cg, EnumSet.of(Family.CPU));
        String label = cg.parentPath() + "/limited.service";
        Process p = track(ControllerCgroups.start(dir, "exec sh -c 'while :; do :; done'"));
        Path stat = dir.resolve("cpu.stat");
        Await.until(LONG_WAIT, () -> key(stat, "nr_throttled") >= 10, () -> "never throttled: " + read(stat));
        // while it runs: a scrape lies between two reads of the file
        long before = key(stat, "nr_throttled");
        List<Collector.MetricFamilySamples> mid = scrape(cg, c);
        long after = key(stat, "nr_throttled");
        double midValue = value(mid, "cgscope_cgroup_cpu_throttled_periods_total", "cgroup", label);
        assertTrue(midValue >= before && midValue <= after, before + " <= " + midValue + " <= " + after);
        assertEquals(0.2, value(mid, "cgscope_cgroup_cpu_limit_cores", "cgroup", label), 1e-9);
        p.destroyForcibly();
        p.onExit().join();
        // stopped: the file no longer moves, and the scrape says exactly what it says
        List<Collector.MetricFamilySamples> m = scrape(cg, c);
        assertEquals((double) key(stat, "nr_periods"), value(m, "cgscope_cgroup_cpu_periods_total", "cgroup", label));
        assertEquals((double) key(stat, "nr_throttled"),
                value(m, "cgscope_cgroup_cpu_throttled_periods_total", "cgroup", label));
        double throttled = cg.isV1() ? key(stat, "throttled_time") / 1e9 : key(stat, "throttled_usec") / 1e6;
        assertEquals(throttled, value(m, "cgscope_cgroup_cpu_throttled_seconds_total", "cgroup", label), 1e-9);
        assertTrue(throttled > 0, "throttled " + throttled + " s"); // how long depends on the CPU the loop got
    }

    /** A process that holds about 16 MB in a cgroup with a 64 MiB limit. */
    @Test
    void memoryOfACgroupWithALimitMatchesItsFiles() {
        ControllerCgroups cg = cgroups("memory");
        Path dir = cg.create("holder.service");
        write(dir.resolve(cg.isV1() ? "memory.limit_in_bytes" : "memory.max"), Long.toString(64L << 20));
        CgroupFsCollector c = collector(cg, EnumSet.of(Family.MEMORY));
        String label = cg.parentPath() + "/holder.service";
        // no exec: the shell holds its variable while it waits (close() ends the sleep by its PID)
        track(ControllerCgroups.start(dir, "x=$(head -c 16000000 /dev/zero | tr '\\0' a); sleep 600"));
        Path usage = dir.resolve(cg.isV1() ? "memory.usage_in_bytes" : "memory.current");
        Await.until(LONG_WAIT, () -> single(usage) > 16_000_000, () -> "the holder never held 16 MB: " + read(usage));
        // settled: the shell has built its variable (while building, it holds up to twice that) and
        // waits for its sleep
        Process holder = processes.getLast();
        Await.until(LONG_WAIT, () -> holder.children().anyMatch(child -> child.info().command().orElse("").endsWith("sleep")),
                () -> "the holder never got to its sleep: " + read(usage));
        long u1 = single(usage);
        List<Collector.MetricFamilySamples> m = scrape(cg, c);
        long u2 = single(usage);
        double bytes = value(m, "cgscope_cgroup_memory_bytes", "cgroup", label);
        // usage moves a little (kernel allocations of the waiting shell): within 2% of the reads around the scrape
        assertTrue(bytes >= Math.min(u1, u2) * 0.98 && bytes <= Math.max(u1, u2) * 1.02, u1 + " ~ " + bytes + " ~ " + u2);
        assertEquals(64.0 * (1 << 20), value(m, "cgscope_cgroup_memory_limit_bytes", "cgroup", label));
        long inactive = key(dir.resolve("memory.stat"), cg.isV1() ? "total_inactive_file" : "inactive_file");
        assertEquals(Math.max(0, bytes - inactive), value(m, "cgscope_cgroup_memory_working_set_bytes", "cgroup", label),
                64 * 1024, "usage minus inactive_file");
        double anon = value(m, "cgscope_cgroup_memory_stat_bytes", "cgroup", label, "type", "anon");
        assertTrue(anon > 15_000_000, "anon " + anon);
        Double peak = value(m, "cgscope_cgroup_memory_peak_bytes", "cgroup", label);
        assertTrue(peak == null && !cg.isV1() || peak != null && peak >= bytes, "peak " + peak);
        assertNotNull(value(m, "cgscope_cgroup_memory_events_total", "cgroup", label, "event", "oom_kill"));
    }

    /**
     * The agent's wiring ({@code CgroupFsComponent}): the families are read from the hierarchy in
     * use, here the one with the memory controller (v1 on the test machine, as --cgroup.hierarchy=memory
     * or auto picks it there): its v1 files give the memory family on that hierarchy's paths, and
     * pressure, which v1 has no files for, is down with the reason.
     */
    @Test
    void theAgentReadsTheFilesOfTheHierarchyInUse() throws IOException {
        ControllerCgroups cg = cgroups("memory");
        Path dir = cg.create("limited.service");
        write(dir.resolve(cg.isV1() ? "memory.limit_in_bytes" : "memory.max"), Long.toString(48L << 20));
        int id = 0;
        String name = "unified";
        if (cg.isV1()) {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (List.of(f[1].split(",")).contains("memory")) {
                    id = Integer.parseInt(f[0]);
                    name = f[1];
                }
            }
        }
        HierarchyIndexes.Indexed inUse = new HierarchyIndexes.Indexed(id, name, cg.mount().toString(), cg.index());
        Set<Family> wanted = EnumSet.of(Family.MEMORY, Family.PRESSURE);
        CgroupFsCollector c = new CgroupFsCollector(wanted, new CgroupLabels(0, null, null), RETENTION, Duration.ZERO);
        CgroupFsComponent component = new CgroupFsComponent(wanted, new HierarchyIndexes(List.of(inUse), inUse, "test"), c);
        closeLater(component::stop);
        cg.sync();
        component.start();
        String label = cg.parentPath() + "/limited.service";
        Path usage = dir.resolve(cg.isV1() ? "memory.usage_in_bytes" : "memory.current");
        long u1 = single(usage);
        List<Collector.MetricFamilySamples> m = scrape(cg, c);
        long u2 = single(usage);
        assertEquals(48.0 * (1 << 20), value(m, "cgscope_cgroup_memory_limit_bytes", "cgroup", label));
        double bytes = value(m, "cgscope_cgroup_memory_bytes", "cgroup", label);
        assertTrue(bytes >= Math.min(u1, u2) && bytes <= Math.max(u1, u2), u1 + " <= " + bytes + " <= " + u2);
        assertEquals(1.0, value(m, "cgscope_cgroupfs_collector_up", "collector", "memory"));
        if (cg.isV1()) {
            assertEquals(0.0, value(m, "cgscope_cgroupfs_collector_up", "collector", "pressure"));
            assertTrue(c.downReason(Family.PRESSURE).startsWith("cgroup v1 has no pressure files"),
                    c.downReason(Family.PRESSURE));
            assertEquals(null, value(m, "cgscope_cgroup_pressure_seconds_total", "cgroup", label, "resource", "memory",
                    "kind", "some"), "no pressure of a v1 cgroup");
        } else {
            assertEquals(1.0, value(m, "cgscope_cgroupfs_collector_up", "collector", "pressure"));
        }
    }

    @Test
    void pidsCountTheTasksOfTheCgroup() {
        ControllerCgroups cg = cgroups("pids");
        Path dir = cg.create("three.service");
        write(dir.resolve("pids.max"), "50");
        CgroupFsCollector c = collector(cg, EnumSet.of(Family.PIDS));
        String label = cg.parentPath() + "/three.service";
        for (int i = 0; i < 3; i++) {
            track(ControllerCgroups.start(dir, "exec sleep 600"));
        }
        Await.until(LONG_WAIT, () -> single(dir.resolve("pids.current")) == 3, () -> read(dir.resolve("pids.current")));
        List<Collector.MetricFamilySamples> m = scrape(cg, c);
        assertEquals(3.0, value(m, "cgscope_cgroup_pids", "cgroup", label));
        assertEquals(50.0, value(m, "cgscope_cgroup_pids_limit", "cgroup", label));
    }

    /** Direct reads and writes of 4 MiB on the block device under the build directory. */
    @Test
    void ioBytesAndOperationsMatchTheKernelsFiles() throws Exception {
        ControllerCgroups cg = cgroups("io");
        Path dir = cg.create("io.service");
        Path target = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "cgscope-io", ".bin");
        closeLater(() -> Files.deleteIfExists(target));
        long dev = (Long) Files.getAttribute(target, "unix:dev");
        long major = (dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL;
        long minor = dev & 0xff | (dev >>> 12) & ~0xffL;
        assumeTrue(major != 0, target + " is on no block device (major 0): no IO is accounted to a device");
        String device = major + ":" + minor;
        if (cg.isV1()) {
            // v1 counts a cgroup's IO only where it has a throttle rule (exporter/KERNEL.md): one never reached
            write(dir.resolve("blkio.throttle.read_bps_device"), device + " 1099511627776");
            write(dir.resolve("blkio.throttle.write_bps_device"), device + " 1099511627776");
        }
        CgroupFsCollector c = collector(cg, EnumSet.of(Family.IO));
        String label = cg.parentPath() + "/io.service";
        Process p = track(ControllerCgroups.start(dir, "dd if=/dev/zero of=" + target + " bs=64k count=64 oflag=direct"
                + " conv=fsync 2>/dev/null && exec dd if=" + target + " of=/dev/null bs=64k iflag=direct 2>/dev/null"));
        assertEquals(0, p.waitFor(), "dd failed");
        List<Collector.MetricFamilySamples> m = scrape(cg, c);
        String bytesFile = cg.isV1() ? "blkio.throttle.io_service_bytes_recursive" : "io.stat";
        String text = read(dir.resolve(bytesFile));
        Double read = null;
        Double written = null;
        for (Collector.MetricFamilySamples f : m) {
            for (Collector.MetricFamilySamples.Sample s : f.samples) {
                if (s.name.equals("cgscope_cgroup_io_bytes_total") && s.labelValues.get(0).equals(label)
                        && s.labelValues.get(1).startsWith(device)) {
                    if (s.labelValues.get(2).equals("read")) {
                        read = s.value;
                    } else if (s.labelValues.get(2).equals("write")) {
                        written = s.value;
                    }
                }
            }
        }
        assertNotNull(read, "no read bytes for " + device + " in " + m + "\n" + text);
        assertTrue(read >= 4 << 20 && written >= 4 << 20, "read " + read + ", written " + written + "; " + text);
        assertTrue(text.contains(Long.toString(read.longValue())) && text.contains(Long.toString(written.longValue())),
                "the file says it: " + text);
    }

    /** Cgroups made and removed all the time while scraping: the ones that go mid-scrape are skipped, no error. */
    @Test
    void cgroupsRemovedDuringScrapesAreSkippedWithoutAnError() throws Exception {
        try (CgroupFs fs = CgroupFs.open(null); TestCgroups tc = new TestCgroups()) {
            CgroupIndex index = new CgroupIndex(RETENTION, new FakeTicker(), Clock.systemUTC());
            index.setResolver(new KernelLookup(fs));
            try (CgroupWatcher watcher = new CgroupWatcher(fs, index, true)) {
                watcher.start();
                CgroupFsCollector c = new CgroupFsCollector(EnumSet.of(Family.PRESSURE), new CgroupLabels(0, null, null),
                        RETENTION, Duration.ZERO);
                Set<String> none = Set.of();
                c.add(new HierarchyReader(new Hierarchy("cgroup2", CgroupFiles.Version.V2, fs.rootFd(), index, none),
                        EnumSet.of(Family.PRESSURE), c::label), EnumSet.of(Family.PRESSURE));
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger made = new AtomicInteger();
                Thread churn = Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        Path d = tc.create("churn-" + made.incrementAndGet());
                        TestCgroups.remove(d);
                    }
                });
                try {
                    for (int i = 0; i < 30; i++) {
                        List<Collector.MetricFamilySamples> m = c.collect();
                        assertEquals(0.0, value(m, "cgscope_cgroupfs_errors_total"), "scrape " + i);
                    }
                } finally {
                    stop.set(true);
                    churn.join();
                    c.closeReaders();
                }
                System.out.println("scraped 30 times while " + made.get() + " cgroups came and went");
                assertTrue(made.get() > 30, "the churn ran");
            }
        }
    }

    /**
     * One scrape with every family cgscope exports per cgroup, written by the registry in the text
     * format as /metrics writes it: the BPF companion's, the OOM kill program's (after a real kill)
     * and every cgroupfs family, each from where this host has its controller. {@code promtool
     * check metrics} reports nothing.
     */
    @Test
    @KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.CGROUP2, KernelTest.Requirement.BPF})
    void aScrapeWithEveryFamilyPassesPromtool() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        assumeTrue(Files.isExecutable(promtool), "needs promtool (Debian's prometheus package)");
        io.prometheus.client.CollectorRegistry registry = new io.prometheus.client.CollectorRegistry(true);
        CgroupLabels labels = new CgroupLabels(0, null, null);
        CgroupFsCollector fs = new CgroupFsCollector(EnumSet.allOf(Family.class), labels, RETENTION, Duration.ZERO);
        closeLater(fs::closeReaders);
        List<ControllerCgroups> trees = new ArrayList<>();
        Path scratch = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "cgscope-every", ".bin");
        closeLater(() -> Files.deleteIfExists(scratch));
        for (Family family : Family.ALL) {
            ControllerCgroups cg = cgroups(family == Family.PRESSURE ? ControllerCgroups.PRESSURE : family.controller());
            trees.add(cg);
            Path dir = cg.create("every.service");
            switch (family) {
                case CPU -> write(dir.resolve(cg.isV1() ? "cpu.cfs_quota_us" : "cpu.max"), cg.isV1() ? "50000" : "50000 100000");
                case MEMORY -> write(dir.resolve(cg.isV1() ? "memory.limit_in_bytes" : "memory.max"), "268435456");
                case PIDS -> write(dir.resolve("pids.max"), "100");
                case IO -> {
                    if (cg.isV1()) {
                        long dev = (Long) Files.getAttribute(scratch, "unix:dev");
                        String device = ((dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL) + ":" + (dev & 0xff | (dev >>> 12) & ~0xffL);
                        write(dir.resolve("blkio.throttle.write_bps_device"), device + " 1099511627776");
                    }
                }
                default -> { }
            }
            Process p = track(ControllerCgroups.start(dir, "dd if=/dev/zero of=" + scratch + " bs=64k count=16 oflag=direct"
                    + " 2>/dev/null; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exec sleep 600"));
            Await.until(LONG_WAIT, () -> !p.isAlive() || Files.exists(Path.of("/proc/" + p.pid() + "/cmdline"))
                    && read(Path.of("/proc/" + p.pid() + "/cmdline")).startsWith("sleep"), () -> "the workload never slept");
            Fd root = Libc.open(cg.mount().toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
            closeLater(root::closeQuietly);
            Hierarchy h = new Hierarchy(cg.toString(), cg.isV1() ? CgroupFiles.Version.V1 : CgroupFiles.Version.V2, root,
                    cg.index(), Set.of("cpu", "memory", "pids", "io", "blkio"));
            fs.add(new HierarchyReader(h, EnumSet.of(family), fs::label), EnumSet.of(family));
        }
        fs.register(registry);

        // BPF: the companion and the OOM kill program over the cgroup2 index, and one real kill
        CgroupFs cgroupFs = closeLater(CgroupFs.open(null));
        CgroupIndex index = new CgroupIndex(RETENTION, new FakeTicker(), Clock.systemUTC());
        index.setResolver(new KernelLookup(cgroupFs));
        CgroupWatcher watcher = closeLater(new CgroupWatcher(cgroupFs, index, true));
        watcher.start();
        io.cgscope.bpf.BpfCompanion bpf = closeLater(new io.cgscope.bpf.BpfCompanion(
                EnumSet.allOf(io.cgscope.bpf.Feature.class), 16384, 99));
        bpf.start();
        io.cgscope.bpf.OomKills kills = closeLater(new io.cgscope.bpf.OomKills(16384, r -> { }));
        assertTrue(kills.start(), kills.programs().toString());
        CgroupCollector companion = new CgroupCollector(index, bpf, labels, RunqBuckets.of("pow4"), RETENTION,
                System::nanoTime);
        companion.report(kills);
        companion.register(registry);
        new OomKillCollector(index, kills, labels, RETENTION).register(registry);
        TestCgroups v2 = closeLater(new TestCgroups());
        io.cgscope.testing.OomKiller killer = closeLater(io.cgscope.testing.OomKiller.create().orElseThrow());
        Path victim = v2.create("oom.service");
        Await.until(LONG_WAIT, () -> index.pathOf(TestCgroups.id(victim)) != null, () -> "the victim's cgroup not indexed");
        killer.kill(victim, v2.parentPath() + "/oom.service");
        Await.until(LONG_WAIT, () -> {
            try {
                return kills.read().size() > 0;
            } catch (io.cgscope.bpf.BpfException e) {
                throw new AssertionError(e);
            }
        }, () -> "the kill was not counted");

        for (ControllerCgroups cg : trees) {
            cg.sync();
        }
        java.io.StringWriter w = new java.io.StringWriter();
        io.prometheus.client.exporter.common.TextFormat.write004(w, registry.metricFamilySamples());
        String exposition = w.toString();
        Set<String> families = new java.util.TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                families.add(line.split(" ")[2]);
            }
        }
        List<String> every = List.of("cgscope_cgroup_cpu_seconds_total", "cgscope_cgroup_cpu_samples_total",
                "cgscope_cgroup_context_switches_total", "cgscope_cgroup_runqueue_latency_seconds",
                "cgscope_cgroup_oom_kills_total", "cgscope_cgroup_pressure_seconds_total",
                "cgscope_cgroup_cpu_periods_total", "cgscope_cgroup_cpu_throttled_periods_total",
                "cgscope_cgroup_cpu_throttled_seconds_total", "cgscope_cgroup_cpu_limit_cores",
                "cgscope_cgroup_memory_bytes", "cgscope_cgroup_memory_working_set_bytes",
                "cgscope_cgroup_memory_limit_bytes", "cgscope_cgroup_memory_events_total",
                "cgscope_cgroup_memory_stat_bytes", "cgscope_cgroup_io_bytes_total",
                "cgscope_cgroup_io_operations_total", "cgscope_cgroup_pids", "cgscope_cgroup_pids_limit");
        List<String> missing = new ArrayList<>(every);
        missing.removeAll(families);
        assertEquals(List.of(), missing, "every family is in the scrape:\n" + exposition);
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(exposition.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals("", out.strip(), "promtool check metrics on a scrape of " + exposition.length() + " bytes");
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
