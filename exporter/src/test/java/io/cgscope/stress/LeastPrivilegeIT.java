package io.cgscope.stress;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.Workloads;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real jar started by root through {@code setpriv} (util-linux) with the bounding, inheritable
 * and ambient sets limited to exactly the capabilities the README documents, and no_new_privs as
 * the systemd unit has it, plus {@code --run-as=nobody}; then the same with one capability or two
 * withheld, to see what degrades.
 */
@KernelTest({ROOT, CGROUP2, BPF})
class LeastPrivilegeIT {
    /** README, "Security model"; the systemd unit's CapabilityBoundingSet. */
    private static final List<String> DOCUMENTED =
            List.of("sys_admin", "bpf", "perfmon", "dac_read_search", "setuid", "setgid");
    /** CAP_DAC_READ_SEARCH 2, CAP_SETGID 6, CAP_SETUID 7, CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39. */
    private static final long DOCUMENTED_MASK = 1L << 2 | 1L << 6 | 1L << 7 | 1L << 21 | 1L << 38 | 1L << 39;
    private static final List<String> PROGRAMS = List.of("cpu", "samples", "switches", "runqlat", "oom");
    private static final String NOBODY = "65534";

    /** {@code setpriv} limiting every inheritable set to {@code caps}, with no_new_privs, then exec. */
    private static List<String> setpriv(List<String> caps) {
        String plus = caps.stream().map(c -> "+" + c).collect(Collectors.joining(","));
        return List.of("setpriv", "--bounding-set=-all," + plus, "--inh-caps=-all," + plus,
                "--ambient-caps=-all," + plus, "--no-new-privs", "--");
    }

    private static List<String> without(String... withheld) {
        List<String> caps = new ArrayList<>(DOCUMENTED);
        caps.removeAll(List.of(withheld));
        return caps;
    }

    @Test
    void withOnlyTheDocumentedCapabilitiesEverythingWorksAfterTheDrop() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start(setpriv(DOCUMENTED), "--run-as=nobody",
                     "--cgroup.retention=3s")) {
            // It really ran with exactly these: the bounding set survives the drop.
            assertEquals(DOCUMENTED_MASK, Long.parseUnsignedLong(status(agent.pid()).get("CapBnd"), 16));
            awaitDropped(agent);
            assertTrue(agent.log().contains("mode fanotify with FAN_UNLIMITED_QUEUE"), agent.log());
            for (String p : PROGRAMS) {
                assertEquals(1, agent.metric("cgscope_bpf_program_up{program=\"" + p + "\"}"), p + ": " + agent.log());
            }
            Set<Long> programs = BpfPrograms.heldBy(agent.pid());
            assertTrue(programs.size() >= 3, "programs held by cgscope (on_switch, cpu_tick, sample): " + programs);

            // Events after the drop: a new cgroup is named by its CREATE (an on-demand lookup would
            // need CAP_DAC_READ_SEARCH, gone now), and BPF counts its task, read through the map fds.
            Path unit = cgroups.create("after-drop.slice/unit.service");
            long id = TestCgroups.id(unit);
            String path = cgroups.parentPath() + "/after-drop.slice/unit.service";
            Await.until(Duration.ofSeconds(10), () -> "live".equals(state(agent, id, path)),
                    () -> "not indexed: " + id + " " + path);
            Workloads.await(Workloads.busyCpu(unit, 1), Duration.ofSeconds(60)); // ends by SIGXCPU after 1 s of CPU
            double kernel = Workloads.cpuStatSeconds(unit);
            String cpu = "cgscope_cgroup_cpu_seconds_total{cgroup=\"" + path + "\"}";
            Await.until(Duration.ofSeconds(10), () -> metricOr0(agent, cpu) >= kernel * 0.95,
                    () -> "BPF CPU " + metricOr0(agent, cpu) + " s vs cpu.stat " + kernel + " s");
            assertTrue(metricOr0(agent, "cgscope_cgroup_context_switches_total{cgroup=\"" + path + "\"}") >= 1);
            TestCgroups.removeTree(unit);
            Await.until(Duration.ofSeconds(10), () -> "dead".equals(state(agent, id, path)), () -> "not dead: " + id);
            // Its retention ends: a scrape folds its counts and deletes its map entries through the map fds.
            Await.until(Duration.ofSeconds(20), () -> state(agent, id, path) == null && metricOr0(agent, cpu) == 0,
                    () -> "still retained or exported: " + state(agent, id, path) + " " + metricOr0(agent, cpu));
            assertEquals(0, agent.metric("cgscope_scrape_errors_total"));
            assertEquals(1, agent.metric("cgscope_index_following"));

            // An id the index does not know needs open_by_handle_at, refused as nobody: a 404, counted.
            double failuresBefore = agent.metric("cgscope_index_lookup_failures_total");
            assertEquals(404, agent.get("/cgroup/" + Long.toUnsignedString(Long.MAX_VALUE - 7)).statusCode());
            assertTrue(agent.metric("cgscope_index_lookup_failures_total") >= failuresBefore + 1,
                    "the refused lookup is counted");

            // Still nobody on every thread (threads started since, too), then a clean stop.
            assertEquals(List.of(), privilegedThreads(agent.pid()));
            agent.signal("TERM");
            assertEquals(0, agent.waitFor(Duration.ofSeconds(10)), agent.log());
            BpfPrograms.awaitUnloaded(programs, Duration.ofSeconds(10));
        }
    }

    @Test
    void aResyncAfterTheDropSweepsTheTreeAsNobody() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start(setpriv(DOCUMENTED), "--run-as=nobody", "--bpf.programs=",
                     "--no-fanotify.unlimited-queue")) {
            awaitDropped(agent);
            agent.signal("STOP");
            try {
                for (int i = 0; i < 20_000; i++) { // 40,000 events: the bounded queue (16,384) overflows
                    Files.delete(cgroups.create("burst" + i));
                }
                for (int i = 0; i < 25; i++) {
                    cgroups.create("kept" + i + ".slice/unit.service"); // lost with the overflow
                }
            } finally {
                agent.signal("CONT");
            }
            Await.until(Duration.ofSeconds(60), () -> metricOr0(agent, "cgscope_index_resyncs_total") >= 1,
                    () -> "no re-sync: " + agent.log());
            Map<Long, String> tree = new TreeMap<>();
            try (Stream<Path> walk = Files.walk(cgroups.parent())) {
                walk.filter(Files::isDirectory).forEach(d -> tree.put(TestCgroups.id(d),
                        cgroups.mount().relativize(d).toString()));
            }
            Await.until(Duration.ofSeconds(30), () -> tree.equals(agent.liveCgroups(cgroups.parentPath())),
                    () -> "index differs from the tree after the re-sync");
            assertEquals(1, agent.metric("cgscope_index_following"));
            assertEquals(List.of(), privilegedThreads(agent.pid()));
        }
    }

    @Test
    void withoutBpfAndPerfmonCapSysAdminStillLoadsThePrograms() throws Exception {
        // The kernel's bpf_capable() and perfmon_capable() accept CAP_SYS_ADMIN in their place.
        try (AgentProcess agent = AgentProcess.start(setpriv(without("bpf", "perfmon")), "--run-as=nobody")) {
            awaitDropped(agent);
            for (String p : PROGRAMS) {
                assertEquals(1, agent.metric("cgscope_bpf_program_up{program=\"" + p + "\"}"), p);
            }
            assertEquals(1, agent.metric("cgscope_index_info{mode=\"fanotify\",hierarchy=\"unified\"}"));
        }
    }

    @Test
    void withoutSysAdminTheIndexFollowsTheTracepointsThroughBpfAndTheProgramsStillLoad() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start(setpriv(without("sys_admin")), "--run-as=nobody",
                     "--cgroup.sweep-interval=1s")) {
            awaitDropped(agent);
            assertEquals(1, agent.metric("cgscope_index_info{mode=\"bpf\",hierarchy=\"unified\"}"));
            assertTrue(agent.log().lines().anyMatch(l -> l.contains(
                    "fanotify refused, falling back to the BPF lifecycle programs: fanotify_") && l.contains("EPERM")),
                    agent.log());
            assertTrue(agent.log().contains("mode bpf (cgroup_mkdir/cgroup_rmdir tracepoints"), agent.log());
            for (String p : PROGRAMS) {
                assertEquals(1, agent.metric("cgscope_bpf_program_up{program=\"" + p + "\"}"), p);
            }
            // After the drop the ring still delivers: a cgroup that lives a moment is named, not missed.
            Path c = cgroups.create("brief.service");
            long id = TestCgroups.id(c);
            TestCgroups.remove(c);
            Await.until(Duration.ofSeconds(15), () -> "dead".equals(state(agent, id, cgroups.parentPath()
                    + "/brief.service")), () -> "not named after the drop: " + id);
        }
    }

    @Test
    void withoutSysAdminAndBpfTheProgramsAreDownAndTheIndexStillWorks() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start(setpriv(without("sys_admin", "bpf")), "--run-as=nobody",
                     "--cgroup.sweep-interval=1s")) {
            awaitDropped(agent);
            assertTrue(agent.log().contains("fanotify refused, falling back to the BPF lifecycle programs"), agent.log());
            assertTrue(agent.log().contains("BPF lifecycle programs refused, falling back to sweeps"), agent.log());
            for (String p : PROGRAMS) {
                assertEquals(0, agent.metric("cgscope_bpf_program_up{program=\"" + p + "\"}"), p);
            }
            assertEquals(200, agent.status("/healthz"));
            assertEquals(1, agent.metric("cgscope_index_info{mode=\"sweep\",hierarchy=\"unified\"}"));
            assertFoundBySweeps(agent, cgroups);
            assertEquals(0, agent.metric("cgscope_scrape_errors_total"));
        }
    }

    @Test
    void withoutSetuidTheDropFailsAndCgscopeExits() throws Exception {
        String jar = System.getenv("CGSCOPE_JAR");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(setpriv(without("setuid")));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseZGC",
                "-Xmx256m", "-jar", jar, "--web.listen-address=127.0.0.1:" + port, "--run-as=nobody"));
        Path log = Files.createTempFile("cgscope-lp", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            boolean exited = p.waitFor(60, TimeUnit.SECONDS);
            String out = Files.readString(log);
            assertTrue(exited, out);
            assertEquals(1, p.exitValue(), out);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("cgscope: cannot drop privileges to nobody: ")
                    && l.contains("EPERM")), out);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    /** A cgroup created now is found by the next sweep (cgroupfs is world-readable). */
    private static void assertFoundBySweeps(AgentProcess agent, TestCgroups cgroups) {
        Path c = cgroups.create("swept.slice");
        long id = TestCgroups.id(c);
        Await.until(Duration.ofSeconds(15), () -> "live".equals(state(agent, id, cgroups.parentPath() + "/swept.slice")),
                () -> "not found by a sweep: " + id);
    }

    /** Waits until the drop is logged and every thread is nobody with no capability. */
    private static void awaitDropped(AgentProcess agent) {
        Await.until(Duration.ofSeconds(10), () -> agent.log().contains("dropped privileges"), agent::log);
        Await.until(Duration.ofSeconds(10), () -> privilegedThreads(agent.pid()).isEmpty(),
                () -> "threads not dropped: " + privilegedThreads(agent.pid()));
        assertTrue(threads(agent.pid()) >= 10, "too few threads looked at");
    }

    /** Threads not entirely nobody: uids, gids, groups, effective, permitted and ambient capabilities. */
    private static List<String> privilegedThreads(long pid) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                Map<String, String> s;
                try {
                    s = status(task);
                } catch (IOException gone) {
                    continue;
                }
                boolean ok = s.get("Uid").equals(String.join(" ", NOBODY, NOBODY, NOBODY, NOBODY))
                        && s.get("Gid").equals(String.join(" ", NOBODY, NOBODY, NOBODY, NOBODY))
                        && s.get("Groups").isEmpty()
                        && Long.parseUnsignedLong(s.get("CapEff"), 16) == 0
                        && Long.parseUnsignedLong(s.get("CapPrm"), 16) == 0
                        && Long.parseUnsignedLong(s.get("CapAmb"), 16) == 0;
                if (!ok) {
                    out.add(task.getFileName() + " " + s);
                }
            }
        } catch (IOException e) {
            out.add("cannot list threads: " + e);
        }
        return out;
    }

    private static int threads(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return (int) tasks.count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static Map<String, String> status(long pid) throws IOException {
        return status(Path.of("/proc/" + pid));
    }

    private static Map<String, String> status(Path procDir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(procDir.resolve("status"))) {
            int colon = line.indexOf(':');
            String key = line.substring(0, colon);
            if (List.of("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")
                    .contains(key)) {
                out.put(key, line.substring(colon + 1).strip().replaceAll("\\s+", " "));
            }
        }
        return out;
    }

    private static String state(AgentProcess agent, long id, String path) {
        try {
            var r = agent.get("/cgroup/" + id);
            if (r.statusCode() != 200) {
                return null;
            }
            JsonObject o = new JsonObject(r.body());
            return path.equals(o.getString("path")) ? o.getString("state") : "wrong path " + o.getString("path");
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    private static double metricOr0(AgentProcess agent, String sample) {
        try {
            return agent.metric(sample);
        } catch (AssertionError | IOException | InterruptedException e) {
            return 0;
        }
    }
}
