package io.cgscope.stress;

import io.cgscope.cgroupfs.Hierarchies;
import io.cgscope.cgroupfs.Mountinfo;
import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --cgroup.hierarchy} through the real jar on a hybrid host: the CPU time of a task in a v1
 * {@code cpu} cgroup (a controller's slot of its css_set) or {@code name=systemd} cgroup (no
 * controller: the css_set's list of cgroups) is named by that cgroup's v1 path, the API answers
 * in that hierarchy by default and in any other with {@code ?hierarchy=}, and {@code auto} names
 * the host's CPU by the v1 hierarchy that holds its processes when the unified one holds none.
 * Test cgroups go under a unique parent in the v1 {@code cpu} and {@code name=systemd} hierarchies
 * only; the test's own workloads are the only processes it moves.
 */
@KernelTest({ROOT, CGROUP2, BPF})
class HierarchyIT {
    private List<Hierarchies.Hierarchy> v1;

    @BeforeEach
    void setUp() {
        v1 = Hierarchies.v1(Hierarchies.read("/proc/self/mountinfo"), Hierarchies.read("/proc/self/cgroup"));
        assumeTrue(v1.stream().anyMatch(h -> h.tokens().contains("cpu"))
                && v1.stream().anyMatch(h -> h.name().equals("name=systemd")),
                "needs the v1 cpu and name=systemd hierarchies mounted: " + v1);
    }

    /** The cgroup2 hierarchy's root mount, found as the agent finds it. */
    private static Path unifiedMount() {
        return Path.of(Mountinfo.hierarchyRoot(Hierarchies.read("/proc/self/mountinfo")).orElseThrow().mountPoint());
    }

    private Hierarchies.Hierarchy v1(String name) {
        return v1.stream().filter(h -> h.name().equals(name) || h.tokens().contains(name)).findFirst().orElseThrow();
    }

    @Test
    void cpuTimeIsNamedByTheTasksCgroupInTheV1CpuHierarchy() throws Exception {
        cpuTimeIsNamedByTheV1Hierarchy("cpu", "controller slot");
    }

    @Test
    void cpuTimeIsNamedByTheTasksCgroupInTheNamedSystemdHierarchy() throws Exception {
        cpuTimeIsNamedByTheV1Hierarchy("name=systemd", "cgrp_links");
    }

    private void cpuTimeIsNamedByTheV1Hierarchy(String hierarchy, String how) throws Exception {
        Hierarchies.Hierarchy h = v1(hierarchy);
        try (TestCgroups cgroups = new TestCgroups(Path.of(h.mountPoint()));
             AgentProcess agent = AgentProcess.start("--cgroup.hierarchy=" + hierarchy,
                     "--bpf.programs=cpu,switches")) {
            assertTrue(agent.log().contains("name cgroups by the hierarchy " + h.name()), agent.log());
            JsonObject all = new JsonObject(agent.get("/hierarchies").body());
            assertEquals(h.name(), all.getString("in_use"), all.encode());
            JsonArray list = all.getJsonArray("hierarchies");
            assertEquals(v1.size() + 1, list.size(), "unified and every v1 hierarchy: " + all.encode());
            for (int i = 0; i < list.size(); i++) {
                assertTrue(list.getJsonObject(i).getBoolean("following"), list.getJsonObject(i).encode());
            }

            Path busy = cgroups.create("busy.service");
            String path = cgroups.parentPath() + "/busy.service";
            long id = TestCgroups.id(busy);
            Process p = Workloads.busyCpu(busy, 2);
            Workloads.await(p, Duration.ofSeconds(60)); // 2 s of its own CPU, then SIGXCPU
            String series = "cgscope_cgroup_cpu_seconds_total{cgroup=\"" + path + "\"}";
            Await.until(Duration.ofSeconds(20), () -> cpuSeconds(agent, path) >= 1.5,
                    () -> how + ": " + series + " = " + cpuSeconds(agent, path));
            // The API answers in the hierarchy in use, and in another only when asked.
            JsonObject c = new JsonObject(agent.get("/cgroup/" + id).body());
            assertEquals(path, c.getString("path"), c.encode());
            assertEquals(path, new JsonObject(agent.get("/cgroup/" + id + "?hierarchy=" + hierarchy).body())
                    .getString("path"));
            assertEquals(1, new JsonObject(agent.get("/cgroup?path=" + path + "&hierarchy=" + hierarchy).body())
                    .getJsonArray("cgroups").size());
            var wrong = agent.get("/cgroup/" + id + "?hierarchy=nonesuch");
            assertEquals(400, wrong.statusCode(), wrong.body());
            assertTrue(wrong.body().contains("not an indexed hierarchy; known: unified"), wrong.body());
            assertEquals(1, agent.metric("cgscope_index_info{mode=\"fanotify\",hierarchy=\"" + h.name() + "\"}"));
        }
    }

    private static double cpuSeconds(AgentProcess agent, String path) {
        try {
            for (Exposition.Sample s : Exposition.parse(agent.get("/metrics").body())) {
                if (s.name().equals("cgscope_cgroup_cpu_seconds_total") && path.equals(s.label("cgroup"))) {
                    return s.value();
                }
            }
        } catch (IOException | InterruptedException e) {
            return -1;
        }
        return 0;
    }

    /**
     * auto as the host is: on this machine's hybrid layout the v1 hierarchy that holds its processes;
     * where some process sits below the unified root (a test of someone else's, a container runtime),
     * the unified hierarchy. Either way the host's CPU time is named by cgroups of the chosen one.
     */
    @Test
    void autoNamesTheHostsCpuByTheHierarchyThatHoldsItsProcesses() throws Exception {
        var holding = Hierarchies.holding(Hierarchies.readProcCgroups());
        boolean unifiedHolds = holding.containsKey(Hierarchies.UNIFIED_ID);
        assumeTrue(unifiedHolds || holding.keySet().stream().anyMatch(id -> id > 0),
                "needs processes below the root of some hierarchy: " + holding);
        try (AgentProcess agent = AgentProcess.start("--cgroup.hierarchy=auto", "--bpf.programs=cpu")) {
            String inUse = new JsonObject(agent.get("/hierarchies").body()).getString("in_use");
            Path mount;
            if (unifiedHolds) {
                assertEquals("unified", inUse, "processes sit below the unified root: " + holding);
                assertTrue(agent.log().contains("(auto: processes sit below the unified hierarchy's root"), agent.log());
                mount = unifiedMount();
            } else {
                assertTrue(!inUse.equals("unified"), "auto chose " + inUse);
                mount = Path.of(v1(inUse).mountPoint());
                assertTrue(agent.log().contains("name cgroups by the hierarchy " + inUse + " (auto: the unified hierarchy"
                        + " holds no process below its root"), agent.log());
            }
            // Some of the host's CPU time is named by a cgroup below that hierarchy's root, one that exists there.
            List<String> named = new ArrayList<>();
            Await.until(Duration.ofSeconds(20), () -> {
                named.clear();
                try {
                    for (Exposition.Sample s : Exposition.parse(agent.get("/metrics").body())) {
                        String label = s.label("cgroup");
                        if (s.name().equals("cgscope_cgroup_cpu_seconds_total") && !label.startsWith("/")
                                && s.value() > 0 && Files.isDirectory(mount.resolve(label))) {
                            named.add(label);
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    return false;
                }
                return !named.isEmpty();
            }, () -> "no CPU time named by a cgroup of " + inUse);
            System.out.println("auto chose " + inUse + "; CPU time named by " + named);
        }
    }

    /**
     * The DaemonSet (and the image's training run) name the host's cgroup2 mount with --cgroup.root and
     * leave --cgroup.hierarchy at auto: that root is the hierarchy meant, even on a host whose
     * processes live in v1 hierarchies this mount namespace also shows.
     */
    @Test
    void autoWithAnExplicitRootNamesByTheUnifiedHierarchy() throws Exception {
        String root = unifiedMount().toString();
        try (AgentProcess agent = AgentProcess.start("--cgroup.hierarchy=auto", "--cgroup.root=" + root,
                "--bpf.programs=cpu")) {
            assertEquals("unified", new JsonObject(agent.get("/hierarchies").body()).getString("in_use"));
            assertTrue(agent.log().contains("auto: --cgroup.root names the cgroup2 hierarchy"), agent.log());
        }
    }

    @Test
    void aHierarchyThatIsNotMountedIsOneLineAndStatus2() throws Exception {
        String jar = System.getenv("CGSCOPE_JAR");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-jar", jar, "--web.listen-address=127.0.0.1:" + port, "--cgroup.hierarchy=nosuchcontroller")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), out);
        assertEquals(2, p.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("cgscope: ")).toList();
        assertEquals(1, lines.size(), out);
        assertTrue(lines.getFirst().startsWith("cgscope: --cgroup.hierarchy=nosuchcontroller: no mounted cgroup v1"
                + " hierarchy has nosuchcontroller (mounted: unified, "), out);
    }
}
