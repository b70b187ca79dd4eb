package io.cgscope.programs;

import io.cgscope.bpf.RawTable;
import io.cgscope.bpf.UserProgram;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.config.ProgramConfig;
import io.cgscope.config.ProgramConfigs;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.Workloads;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * User programs against the real kernel: the example programs (exporter/examples) and the test
 * programs (src/test/bpf), compiled by the build, loaded and attached as cgscope does it; real
 * cgroups kept in the index by a real fanotify watcher; real processes in them. The kernel's own
 * counts (a dd of known size) are the truth.
 */
@KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF})
class UserProgramsKernelTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Path EXAMPLES = Path.of("target/examples");
    private static final Path TEST_BPF = Path.of("target/test-bpf");

    private static CgroupFs fs;
    private static FakeTicker ticker;
    private static CgroupIndex index;
    private static CgroupWatcher watcher;
    private static TestCgroups cgroups;
    private static UserPrograms programs;
    private static final Set<Long> loadedByUs = new TreeSet<>();
    private static final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        fs = CgroupFs.open(null);
        ticker = new FakeTicker();
        index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.setResolver(new KernelLookup(fs));
        watcher = new CgroupWatcher(fs, index, true);
        watcher.start();
        cgroups = new TestCgroups();
        List<ProgramConfig> configs = new ArrayList<>(ProgramConfigs.load(EXAMPLES, List.of("cgroup-syscalls",
                "cgroup-events")));
        configs.addAll(ProgramConfigs.load(TEST_BPF, List.of("broken", "formats")));
        long self = ProcessHandle.current().pid();
        Set<Long> before = BpfPrograms.heldBy(self);
        programs = new UserPrograms(configs, "cgscope_user_", false, index, new CgroupLabels(0, null, null),
                RETENTION, System::nanoTime);
        System.out.println(programs.start(fs.mountPoint()));
        loadedByUs.addAll(BpfPrograms.heldBy(self));
        loadedByUs.removeAll(before);
    }

    @AfterAll
    static void stop() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        if (programs != null) {
            programs.close();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (cgroups != null) {
            cgroups.close();
        }
        if (fs != null) {
            fs.close();
        }
        Set<Long> stillHeld = new HashSet<>(BpfPrograms.heldBy(ProcessHandle.current().pid()));
        stillHeld.retainAll(loadedByUs);
        assertEquals(Set.of(), stillHeld, "every program the user configs loaded is detached and closed");
        BpfPrograms.awaitUnloaded(loadedByUs, WAIT);
    }

    /** Creates a cgroup and waits until the index names it. */
    private static Path mkdir(String relative) {
        Path dir = cgroups.create(relative);
        long id = TestCgroups.id(dir);
        String path = label(relative);
        Await.until(Duration.ofSeconds(10), () -> path.equals(index.pathOf(id)), () -> "index never named " + path);
        return dir;
    }

    private static String label(String relative) {
        return cgroups.parentPath() + "/" + relative;
    }

    /** One scrape, as Prometheus gets it: text 0.0.4, parsed strictly. */
    private static String scrapeText() throws Exception {
        CollectorRegistry registry = new CollectorRegistry();
        registry.register(programs);
        StringWriter w = new StringWriter();
        TextFormat.write004(w, registry.metricFamilySamples());
        return w.toString();
    }

    private static List<Exposition.Sample> scrape() throws Exception {
        return Exposition.parse(scrapeText());
    }

    private static Double value(List<Exposition.Sample> samples, String name, String... labels) {
        for (Exposition.Sample s : samples) {
            if (!s.name().equals(name) || s.labels().size() != labels.length / 2) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < labels.length; i += 2) {
                match &= labels[i + 1].equals(s.label(labels[i]));
            }
            if (match) {
                return s.value();
            }
        }
        return null;
    }

    private static double orZero(Double d) {
        return d == null ? 0 : d;
    }

    private static LoadedConfig config(String name) {
        return programs.loaded().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    private static UserProgram program(String config, String program) {
        return config(config).programs().stream().filter(p -> p.name().equals(program)).findFirst().orElseThrow();
    }

    @Test
    void theExamplesCountAWorkloadByItsCgroupPath() throws Exception {
        Path dir = mkdir("dd.service");
        String path = label("dd.service");
        // 200 writes of 4096 bytes; dd's statistics go to /dev/null in writes below 2048 bytes.
        Workloads.run(dir, "dd if=/dev/zero of=/dev/null bs=4096 count=200 2>/dev/null");
        List<Exposition.Sample> m = scrape();
        assertTrue(orZero(value(m, "cgscope_user_cgroup_syscalls_total", "cgroup", path, "syscall", "write")) >= 200,
                "write(2) counted for " + path);
        assertTrue(orZero(value(m, "cgscope_user_cgroup_syscalls_total", "cgroup", path, "syscall", "read")) >= 200);
        String b = "cgscope_user_cgroup_write_size_bytes_bucket";
        assertEquals(200.0, value(m, b, "cgroup", path, "le", "4096") - value(m, b, "cgroup", path, "le", "2048"),
                "exactly dd's 200 writes in (2048, 4096]");
        assertEquals(value(m, b, "cgroup", path, "le", "+Inf"), value(m, "cgscope_user_cgroup_write_size_bytes_count",
                "cgroup", path));
        assertTrue(value(m, "cgscope_user_cgroup_write_size_bytes_sum", "cgroup", path) >= 200 * 4096.0);
        // The exec of dd, through the perf buffer (read by its own thread).
        Await.until(WAIT, () -> {
            try {
                return orZero(value(scrape(), "cgscope_user_cgroup_execs_total", "cgroup", path)) >= 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, () -> "no exec counted for " + path);
    }

    @Test
    void aCgroupRemovedBeforeTheScrapeIsNamedThroughItsRetentionThenFoldedAndDeleted() throws Exception {
        Path dir = mkdir("gone.service");
        long id = TestCgroups.id(dir);
        String path = label("gone.service");
        Workloads.run(dir, "dd if=/dev/zero of=/dev/null bs=4096 count=50 2>/dev/null");
        TestCgroups.remove(dir);
        Await.until(Duration.ofSeconds(10), () -> index.byId(id).map(c -> !c.isLive()).orElse(false),
                () -> "the index never saw the removal");
        List<Exposition.Sample> m = scrape();
        double writes = value(m, "cgscope_user_cgroup_syscalls_total", "cgroup", path, "syscall", "write");
        assertTrue(writes >= 50, "the removed cgroup keeps its path: " + writes);
        assertTrue(hasKeyOf(id), "its map entries are still there while it is retained");

        ticker.advance(RETENTION.plusSeconds(1));
        Await.until(WAIT, () -> index.byId(id).isEmpty(), () -> "retention never ended");
        m = scrape();
        assertNull(value(m, "cgscope_user_cgroup_syscalls_total", "cgroup", path, "syscall", "write"),
                "no id of the path is left: the series ends");
        assertFalse(hasKeyOf(id), "the folded id's keys are deleted from the map");
    }

    /** Whether the syscalls map still has a key of this cgroup id (its first 8 bytes). */
    private static boolean hasKeyOf(long id) throws Exception {
        RawTable t = config("cgroup-syscalls").readMap("cgroup_syscalls_total");
        byte[] keys = t.keys();
        for (int i = 0; i < t.size(); i++) {
            if (ByteBuffer.wrap(keys, i * t.keySize(), 8).order(ByteOrder.nativeOrder()).getLong() == id) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aProgramThatFailsIsDownWithLibbpfsReasonAndTheRestWork() throws Exception {
        UserProgram refused = program("broken", "refused");
        assertFalse(refused.up());
        assertTrue(refused.reason().contains("invalid mem access"), "the verifier's words: " + refused.reason());
        UserProgram probe = program("broken", "probe");
        boolean kprobes = Files.exists(Path.of("/sys/bus/event_source/devices/kprobe"));
        assertEquals(kprobes, probe.up(), "a kprobe attaches where the kernel has kprobes: " + probe.reason());
        if (!kprobes) {
            assertTrue(probe.reason().contains("bpf_program__attach(probe) failed") && probe.reason().contains("kprobe"),
                    "libbpf's reason: " + probe.reason());
        }
        assertTrue(program("broken", "counts").up());

        Path dir = mkdir("spin.service");
        String path = label("spin.service");
        Process spin = Workloads.spin(dir, -1);
        processes.add(spin);
        Await.until(WAIT, () -> {
            try {
                List<Exposition.Sample> m = scrape();
                return orZero(value(m, "cgscope_user_broken_switches_total", "cgroup", path)) > 0
                        && orZero(value(m, "cgscope_user_cgroup_cpu_samples_total", "cgroup", path)) > 0;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, () -> "the working program of broken.bpf.o and the perf_event sampler never counted " + path);
        spin.destroyForcibly();
        List<Exposition.Sample> m = scrape();
        assertEquals(0.0, value(m, "cgscope_user_program_up", "config", "broken", "program", "refused"));
        assertEquals(1.0, value(m, "cgscope_user_program_up", "config", "broken", "program", "counts"));
        assertEquals(1.0, value(m, "cgscope_user_config_up", "config", "broken"), "its maps are all there");
        for (String[] p : new String[][] {{"cgroup-syscalls", "count_syscall"}, {"cgroup-events", "on_exec"},
                {"cgroup-events", "on_sample"}, {"formats", "on_switch"}}) {
            assertEquals(1.0, value(m, "cgscope_user_program_up", "config", p[0], "program", p[1]), p[0] + "/" + p[1]);
        }
    }

    @Test
    void formatsOfTheReadmeAgainstRealMaps() throws Exception {
        Await.until(WAIT, () -> {
            try {
                return orZero(value(scrape(), "cgscope_user_formats_switches_total")) > 0;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, () -> "no context switch counted");
        List<Exposition.Sample> m = scrape();
        assertEquals(1.0, value(m, "cgscope_user_formats_kaddr_total", "function", "schedule"),
                "kaddrs wrote schedule's address, ksym named it back");
        assertTrue(value(m, "cgscope_user_formats_padded_total", "dev", "7", "op", "flush", "slot", "42") > 0,
                "the README's key with 3 bytes of padding");
        List<Integer> online = onlineCpus();
        Await.until(WAIT, () -> {
            try {
                List<Exposition.Sample> s = scrape();
                for (int c : online) {
                    if (orZero(value(s, "cgscope_user_cpu_samples_total", "cpu", Integer.toString(c))) == 0) {
                        return false;
                    }
                }
                return true;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, () -> "a per-CPU array by its cpu label: every CPU sampled");
        assertEquals(0.0, value(m, "cgscope_user_decoder_errors_total", "config", "formats"));
        assertEquals(0.0, value(m, "cgscope_user_scrape_errors_total", "config", "formats"));
    }

    /** {@code /sys/devices/system/cpu/online}: {@code 0-3,6}. */
    private static List<Integer> onlineCpus() throws Exception {
        List<Integer> out = new ArrayList<>();
        for (String part : Files.readString(Path.of("/sys/devices/system/cpu/online")).strip().split(",")) {
            String[] r = part.split("-");
            for (int c = Integer.parseInt(r[0]); c <= Integer.parseInt(r[r.length - 1]); c++) {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void promtoolChecksAScrapeWithUserMetrics() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/promtool")), "needs promtool (Debian's prometheus package)");
        Path dir = mkdir("promtool.service");
        Workloads.run(dir, "dd if=/dev/zero of=/dev/null bs=512 count=10 2>/dev/null");
        String text = scrapeText();
        assertTrue(text.contains("cgscope_user_cgroup_write_size_bytes_bucket{cgroup=\"" + label("promtool.service")),
                "the scrape has user metrics with cgscope's paths");
        assertNull(Exposition.promtool(text), "promtool check metrics reports nothing");
        Map<String, Long> families = new java.util.TreeMap<>();
        for (Exposition.Sample s : Exposition.parse(text)) {
            families.merge(s.name(), 1L, Long::sum);
        }
        assertTrue(families.containsKey("cgscope_user_cgroup_syscalls_total"), families.keySet().toString());
    }
}
