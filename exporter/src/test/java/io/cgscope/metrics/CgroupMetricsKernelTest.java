package io.cgscope.metrics;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.testing.Await;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.Workloads;
import io.prometheus.client.Collector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static io.cgscope.metrics.MetricsText.labelValues;
import static io.cgscope.metrics.MetricsText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cgroup metrics against the real kernel: real BPF attached, real cgroups kept in the index
 * by a real fanotify watcher, real processes; the kernel's own accounting ({@code cpu.stat},
 * {@code /proc/<pid>/schedstat}) is the truth.
 */
@KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.CGROUP2, KernelTest.Requirement.BPF})
class CgroupMetricsKernelTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final int HZ = 99;
    private static final String CPU = "cgscope_cgroup_cpu_seconds_total";
    private static final String SAMPLES = "cgscope_cgroup_cpu_samples_total";
    private static final String SWITCHES = "cgscope_cgroup_context_switches_total";
    private static final String RUNQ_SUM = CgroupCollector.RUNQ_NAME + "_sum";
    private static final Duration LONG_WAIT = Duration.ofSeconds(30);

    private static BpfCompanion bpf;
    private CgroupFs fs;
    private TestCgroups cgroups;
    private FakeTicker ticker;
    private CgroupIndex index;
    private CgroupWatcher watcher;
    private final List<Process> processes = new ArrayList<>();
    private final List<BpfCompanion> extraCompanions = new ArrayList<>();

    @BeforeAll
    static void attach() {
        bpf = new BpfCompanion(EnumSet.allOf(Feature.class), 16384, HZ);
        bpf.start();
        bpf.status().forEach((f, s) -> assertTrue(s.up(), f.label() + " is down: " + s.reason()));
    }

    @AfterAll
    static void detach() {
        if (bpf != null) {
            bpf.close();
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        fs = CgroupFs.open(null);
        cgroups = new TestCgroups();
        ticker = new FakeTicker();
        index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.setResolver(new KernelLookup(fs));
        watcher = new CgroupWatcher(fs, index, true);
        watcher.start();
    }

    @AfterEach
    void tearDown() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (BpfCompanion c : extraCompanions) {
            c.close();
        }
        watcher.close();
        cgroups.close();
        fs.close();
    }

    private CgroupCollector collector(BpfCompanion source, int maxDepth, String include, String exclude) {
        return new CgroupCollector(index, source, new CgroupLabels(maxDepth,
                include == null ? null : Pattern.compile(include), exclude == null ? null : Pattern.compile(exclude)),
                RunqBuckets.of("pow4"), RETENTION, System::nanoTime);
    }

    private CgroupCollector collector() {
        return collector(bpf, 0, null, null);
    }

    /** Creates a cgroup and waits until the index names it (the watcher is asynchronous). */
    private Path mkdir(String relative) {
        Path dir = cgroups.create(relative);
        long id = TestCgroups.id(dir);
        String path = cgroups.parentPath() + "/" + relative;
        Await.until(Duration.ofSeconds(5), () -> path.equals(index.pathOf(id)), () -> "index never named " + path);
        return dir;
    }

    private String label(String relative) {
        return cgroups.parentPath() + "/" + relative;
    }

    private Process track(Process p) {
        processes.add(p);
        return p;
    }

    private static void assertWithin(double expected, double actual, double relative, String what) {
        System.out.printf(java.util.Locale.ROOT, "%s: expected %.6f, got %.6f (%+.3f%%)%n", what, expected, actual,
                (actual - expected) / expected * 100);
        assertTrue(Math.abs(actual - expected) <= relative * expected,
                what + ": expected " + expected + " within " + relative * 100 + "%, got " + actual);
    }

    @Test
    void busyProcessMatchesCpuStatWhileRunningAndAfterExit() {
        Path busy = mkdir("busy.service");
        Path spin = mkdir("spin.service");
        CgroupCollector c = collector();
        // 2 s of CPU, not of wall time: on a loaded machine a wall-time loop gets little CPU, and
        // the few samples it collects are too few for a 15% bound.
        Process p = track(Workloads.busyCpu(busy, 2));
        // While a loop runs without ever being switched out: a scrape lags cpu.stat by at most a
        // tick. A loop that runs until killed, so a loaded machine only makes the wait longer.
        Process s = track(Workloads.spin(spin, -1));
        Await.until(LONG_WAIT, () -> Workloads.cpuStatSeconds(spin) >= 0.5, () -> "the spinning loop never ran");
        double before = Workloads.cpuStatSeconds(spin);
        Double scraped = value(c.collect(), CPU, "cgroup", label("spin.service"));
        double after = Workloads.cpuStatSeconds(spin);
        s.destroyForcibly();
        assertNotNull(scraped);
        assertWithin((before + after) / 2, scraped, 0.05, "CPU seconds mid-run vs cpu.stat");

        Workloads.await(p, LONG_WAIT);
        double truth = Workloads.cpuStatSeconds(busy);
        List<Collector.MetricFamilySamples> m = c.collect();
        assertWithin(truth, value(m, CPU, "cgroup", label("busy.service")), 0.02, "CPU seconds vs cpu.stat");
        assertWithin(truth * HZ, value(m, SAMPLES, "cgroup", label("busy.service")), 0.15, "samples vs seconds x Hz");
    }

    @Test
    void shortLivedCgroupIsShownAfterRemovalAndThroughItsRetention() {
        Path dir = mkdir("short.service");
        long id = TestCgroups.id(dir);
        CgroupCollector c = collector();
        Workloads.await(track(Workloads.busy(dir, Duration.ofMillis(300))), LONG_WAIT);
        double truth = Workloads.cpuStatSeconds(dir);
        TestCgroups.remove(dir);
        Await.until(Duration.ofSeconds(5), () -> index.byId(id).map(g -> !g.isLive()).orElse(false),
                () -> "the index never saw the removal");

        assertWithin(truth, value(c.collect(), CPU, "cgroup", label("short.service")), 0.02, "right after rmdir");
        ticker.advance(RETENTION.minusSeconds(10));
        assertWithin(truth, value(c.collect(), CPU, "cgroup", label("short.service")), 0.02, "near retention end");
        ticker.advance(Duration.ofSeconds(11));
        Await.until(Duration.ofSeconds(5), () -> index.byId(id).isEmpty(), () -> "retention never ended");
        List<Collector.MetricFamilySamples> m = c.collect();
        assertNull(value(m, CPU, "cgroup", label("short.service")), "no id of the path is left: the series ends");
        assertTrue(!mapHas(Feature.CPU, id), "the folded id's map entry is deleted");
    }

    private static boolean mapHas(Feature f, long id) {
        try {
            MapTable t = bpf.read().tables().get(f.dataMap());
            for (int i = 0; i < t.size(); i++) {
                if (t.key(i) == id) {
                    return true;
                }
            }
            return false;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void samePathRecreatedIsOneSeriesThatNeverDecreases() {
        CgroupCollector c = collector();
        String name = label("again.service");
        List<Double> scrapes = new ArrayList<>();
        Runnable scrape = () -> {
            Double v = value(c.collect(), CPU, "cgroup", name);
            scrapes.add(v == null ? 0.0 : v);
        };
        Path first = mkdir("again.service");
        Workloads.await(track(Workloads.busy(first, Duration.ofMillis(200))), LONG_WAIT);
        double life1 = Workloads.cpuStatSeconds(first);
        scrape.run();
        TestCgroups.remove(first);
        scrape.run();
        Path second = mkdir("again.service");
        scrape.run();
        Workloads.await(track(Workloads.busy(second, Duration.ofMillis(200))), LONG_WAIT);
        double life2 = Workloads.cpuStatSeconds(second);
        scrape.run();
        scrape.run();
        for (int i = 1; i < scrapes.size(); i++) {
            assertTrue(scrapes.get(i) >= scrapes.get(i - 1), "decreased: " + scrapes);
        }
        assertWithin(life1 + life2, scrapes.get(scrapes.size() - 1), 0.02, "sum of both lives " + scrapes);
        assertEquals(1, labelValues(c.collect(), CPU, "cgroup").stream().filter(name::equals).count());
    }

    @Test
    void runQueueLatencyOfTwoProcessesOnOneCpuMatchesSchedstat() {
        Path dir = mkdir("pair.service");
        CgroupCollector c = collector();
        Process a = track(Workloads.spin(dir, 0));
        Process b = track(Workloads.spin(dir, 0));
        Await.until(LONG_WAIT, () -> Workloads.schedstat(a.pid())[0] > 0.5 && Workloads.schedstat(b.pid())[0] > 0.5,
                () -> "the pinned loops never ran");
        double waited = Workloads.schedstat(a.pid())[1] + Workloads.schedstat(b.pid())[1];
        a.destroyForcibly();
        b.destroyForcibly();
        Workloads.await(a, LONG_WAIT);
        Workloads.await(b, LONG_WAIT);
        double sum = value(c.collect(), RUNQ_SUM, "cgroup", label("pair.service"));
        assertWithin(waited, sum, 0.20, "run-queue latency _sum vs schedstat run_delay");
    }

    @Test
    void maxDepthRollsUpAndFiltersMatchWholePaths() {
        Path a = mkdir("deep.slice/a.service");
        Path b = mkdir("deep.slice/b.service");
        Workloads.run(a, "exec true");
        Workloads.run(b, "exec true");
        int depth = cgroups.parentPath().split("/").length + 1;
        List<Collector.MetricFamilySamples> rolled = collector(bpf, depth, null, null).collect();
        List<Collector.MetricFamilySamples> flat = collector(bpf, 0, null, null).collect();
        double sa = value(flat, SWITCHES, "cgroup", label("deep.slice/a.service"));
        double sb = value(flat, SWITCHES, "cgroup", label("deep.slice/b.service"));
        assertTrue(sa > 0 && sb > 0);
        assertEquals(sa + sb, value(rolled, SWITCHES, "cgroup", label("deep.slice")), 0.0);
        assertNull(value(rolled, SWITCHES, "cgroup", label("deep.slice/a.service")));

        String parent = Pattern.quote(cgroups.parentPath());
        List<Collector.MetricFamilySamples> filtered = collector(bpf, 0, parent + "/.*", ".*/b\\.service").collect();
        assertEquals(List.of(label("deep.slice/a.service")), labelValues(filtered, SWITCHES, "cgroup"));
    }

    @Test
    void aFullMapRaisesTheFailureCounter() {
        BpfCompanion tiny = new BpfCompanion(EnumSet.of(Feature.SWITCHES), 2, HZ);
        extraCompanions.add(tiny);
        tiny.start();
        assertTrue(tiny.status().get(Feature.SWITCHES).up(), tiny.status().toString());
        for (int i = 0; i < 4; i++) {
            Workloads.run(mkdir("full" + i + ".service"), "exec true");
        }
        List<Collector.MetricFamilySamples> m = collector(tiny, 0, null, null).collect();
        assertTrue(value(m, "cgscope_bpf_map_update_failures_total", "map", "counters") > 0,
                "no failure counted with 2 entries for 5 cgroups");
        assertEquals(2.0, value(m, "cgscope_bpf_map_entries", "map", "counters"));
        assertEquals(1.0, value(m, "cgscope_bpf_program_up", "program", "switches"));
    }

    @Test
    void programRunStatsAppearWhenTheKernelCollectsThem() throws Exception {
        Path sysctl = Path.of("/proc/sys/kernel/bpf_stats_enabled");
        String old = java.nio.file.Files.readAllLines(sysctl).getFirst().strip(); // not readString: KERNEL.md
        java.nio.file.Files.writeString(sysctl, "1");
        try {
            Workloads.run(mkdir("stats.service"), "exec true");
            Map<String, io.cgscope.bpf.CounterSource.RunStats> stats = bpf.runStats();
            assertTrue(stats.get("on_switch").runCount() > 0, stats.toString());
            List<Collector.MetricFamilySamples> m = collector().collect();
            assertTrue(value(m, "cgscope_bpf_program_runs_total", "program", "on_switch") > 0);
            assertTrue(value(m, "cgscope_bpf_program_run_seconds_total", "program", "on_switch") > 0);
        } finally {
            java.nio.file.Files.writeString(sysctl, old);
        }
    }

    @Test
    void aFeatureThatCannotAttachIsDownWithItsReasonWhileTheOthersWork() {
        // A sampling rate far above kernel.perf_event_max_sample_rate: perf_event_open says EINVAL.
        BpfCompanion partial = new BpfCompanion(EnumSet.of(Feature.SAMPLES, Feature.SWITCHES), 16384, 10_000_000);
        extraCompanions.add(partial);
        partial.start();
        assertTrue(partial.status().get(Feature.SWITCHES).up());
        String reason = partial.status().get(Feature.SAMPLES).reason();
        assertTrue(!partial.status().get(Feature.SAMPLES).up() && reason.contains("perf_event_open"), reason);
        Workloads.run(mkdir("partial.service"), "exec true");
        List<Collector.MetricFamilySamples> m = collector(partial, 0, null, null).collect();
        assertEquals(0.0, value(m, "cgscope_bpf_program_up", "program", "samples"));
        assertEquals(1.0, value(m, "cgscope_bpf_program_up", "program", "switches"));
        assertTrue(value(m, SWITCHES, "cgroup", label("partial.service")) > 0);
        assertNull(value(m, SAMPLES, "cgroup", "/"), "a down feature exports no series");
    }

    @Test
    void aLoadFailureIsReportedPerFeatureWithLibbpfsReason() {
        // Maps of 0 entries are refused by the kernel: every feature fails to load, each tried alone.
        BpfCompanion broken = new BpfCompanion(EnumSet.of(Feature.CPU, Feature.SWITCHES), 0, HZ);
        extraCompanions.add(broken);
        broken.start();
        broken.status().forEach((f, s) -> assertTrue(!s.up() && s.reason().startsWith("load: "), f + ": " + s));
        List<Collector.MetricFamilySamples> m = collector(broken, 0, null, null).collect();
        assertEquals(0.0, value(m, "cgscope_bpf_program_up", "program", "cpu"));
        assertEquals(0.0, value(m, "cgscope_scrape_errors_total"));
    }
}
