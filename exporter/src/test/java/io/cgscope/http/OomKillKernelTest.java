package io.cgscope.http;

import io.cgscope.OomComponent;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.metrics.OomKillCollector;
import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.OomKiller;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.prometheus.client.Collector;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real OOM kill, end to end: a process that allocates past a memory limit is killed by the
 * kernel, its cgroups are removed at once, and still the OOM kill program counted it for its
 * cgroup, the metric says 1, {@code /events} (the real HTTP stream over the real index) has the
 * {@code oom_kill} with its path, and the same path made again counts on from 1.
 *
 * <p>The limit is set where this host has the memory controller: on the test machine in the v1
 * {@code memory} hierarchy, on a cgroup made inside this process's own memory cgroup (the child
 * moves there, never out of it); the victim's cgroup2 cgroup is made apart, in the index's
 * hierarchy. On a pure cgroup2 host both are one cgroup.
 */
@KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.CGROUP2, KernelTest.Requirement.BPF})
class OomKillKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private LiveIndex live;
    private OomComponent oom;
    private TestCgroups v2;
    private OomKiller killer;
    private Set<Long> heldBefore;

    @BeforeEach
    void setUp() {
        heldBefore = BpfPrograms.heldBy(ProcessHandle.current().pid());
        live = new LiveIndex();
        oom = new OomComponent(true, 16384, live.index);
        oom.start();
        assertTrue(oom.kills().up(), "the oom program is down: " + oom.kills().programs());
    }

    @AfterEach
    void tearDown() {
        if (oom != null) {
            oom.stop();
            Set<Long> held = BpfPrograms.heldBy(ProcessHandle.current().pid());
            held.removeAll(heldBefore);
            assertEquals(Set.of(), held, "the oom program's fds are all closed");
        }
        if (killer != null) {
            killer.close();
        }
        if (v2 != null) {
            v2.close();
        }
        if (live != null) {
            live.close();
        }
    }

    private static JsonObject awaitKill(SseClient sse, String path) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            SseClient.Event e = sse.next(Duration.ofSeconds(1));
            if (e != null && e.type().equals("oom_kill")) {
                JsonObject data = new JsonObject(e.data());
                JsonObject cgroup = data.getJsonObject("cgroup");
                if (cgroup != null && path.equals(cgroup.getString("path"))) {
                    return data;
                }
            }
        }
        return null;
    }

    private static Double kills(List<Collector.MetricFamilySamples> m, String label) {
        for (Collector.MetricFamilySamples f : m) {
            for (Collector.MetricFamilySamples.Sample s : f.samples) {
                if (s.name.equals("cgscope_cgroup_oom_kills_total") && s.labelValues.get(0).equals(label)) {
                    return s.value;
                }
            }
        }
        return null;
    }

    @Test
    void aKilledProcessCountsForItsRemovedCgroupAndTheSamePathCountsOn() {
        killer = OomKiller.create().orElse(null);
        assumeTrue(killer != null, "no memory controller on this host, neither in v1 nor in cgroup2");
        v2 = new TestCgroups();
        String label = v2.parentPath() + "/oom.service";
        OomKillCollector collector = new OomKillCollector(live.index, oom.kills(), new CgroupLabels(0, null, null),
                Duration.ofMinutes(15));
        try (SseClient sse = new SseClient(live.server.port(), null)) {
            assertEquals(200, sse.status);
            Path first = v2.create("oom.service");
            long victimId = TestCgroups.id(first);
            Await.until(WAIT, () -> live.index.pathOf(victimId) != null, () -> "not indexed: " + label);
            long pid = killer.kill(first, label);
            OomKiller.removeSoon(first); // the container goes right after the kill
            JsonObject kill = awaitKill(sse, label);
            assertNotNull(kill, "no oom_kill for " + label + " on /events within " + WAIT);
            assertEquals(pid, kill.getLong("pid"));
            assertEquals("dd", kill.getString("comm"));
            assertEquals(victimId, kill.getJsonObject("cgroup").getLong("id"));
            assertEquals("cgroup", kill.getString("scope"), kill.encode());
            JsonObject memcg = kill.getJsonObject("memcg");
            assertNotNull(memcg, kill.encode());
            assertEquals(killer.lastMemcgPath(), memcg.getString("path"), kill.encode());
            assertEquals(killer.v1() ? "memory" : "cgroup2", memcg.getString("hierarchy"));
            assertTrue(List.of("oom_control", "inferred").contains(kill.getString("memcg_found_by")), kill.encode());
            assertNotNull(kill.getString("time"));
            List<Collector.MetricFamilySamples> m = collector.collect();
            assertEquals(1.0, kills(m, label), "one kill, its cgroup removed");
            promtoolCheck(m);

            // the same path again: the series counts on
            Path second = v2.create("oom.service");
            long secondId = TestCgroups.id(second);
            assertTrue(secondId != victimId, "a new cgroup");
            Await.until(WAIT, () -> live.index.pathOf(secondId) != null, () -> "not indexed again");
            assertEquals(1.0, kills(collector.collect(), label), "nothing yet in the new one");
            killer.kill(second, label);
            assertNotNull(awaitKill(sse, label), "the second kill on /events");
            assertEquals(2.0, kills(collector.collect(), label), "counts on from 1");
        }
    }

    /** {@code promtool check metrics} on these families, where Debian's prometheus package is installed. */
    private static void promtoolCheck(List<Collector.MetricFamilySamples> m) {
        Path promtool = Path.of("/usr/bin/promtool");
        assumeTrue(Files.isExecutable(promtool), "needs promtool (Debian's prometheus package)");
        try {
            java.io.StringWriter w = new java.io.StringWriter();
            io.prometheus.client.exporter.common.TextFormat.write004(w, java.util.Collections.enumeration(m));
            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                in.write(w.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            assertEquals("", out.strip(), "promtool check metrics: " + w);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The kills counted in {@code kills} for {@code cgroupId} (0 when it has none). */
    private static long counted(io.cgscope.bpf.OomKills kills, long cgroupId) throws io.cgscope.bpf.BpfException {
        io.cgscope.bpf.MapTable t = kills.read();
        for (int i = 0; i < t.size(); i++) {
            if (t.key(i) == cgroupId) {
                return t.value(i, 0);
            }
        }
        return 0;
    }

    /** {@code /proc/self/cgroup}: hierarchy id and path of the line whose second field is {@code name}. */
    private static String[] ownLine(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && f[1].equals(name)) {
                return f;
            }
        }
        return null;
    }

    /**
     * With a v1 hierarchy in use (--cgroup.hierarchy=memory, or name=systemd, as the companion
     * counts), a kill counts for the victim's cgroup in that hierarchy: the v1 memory cgroup the
     * killer made (its path as recorded, and the same id as the record's victim memcg, which the
     * program finds apart, by the kernel's own memory subsystem id), and this process's own
     * name=systemd cgroup, where the dd stays.
     */
    @Test
    void aKillCountsForTheVictimsCgroupInTheV1HierarchyInUse() throws Exception {
        killer = OomKiller.create().orElse(null);
        assumeTrue(killer != null && killer.v1(), "no v1 memory hierarchy here (the pure cgroup2 case is the test above)");
        String[] memory = ownLine("memory");
        String[] systemd = ownLine("name=systemd");
        assumeTrue(memory != null && systemd != null, "no memory or name=systemd line in /proc/self/cgroup");
        java.util.List<io.cgscope.bpf.OomRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (io.cgscope.bpf.OomKills byMemory = new io.cgscope.bpf.OomKills(16384, io.cgscope.bpf.BpfHierarchy.v1(
                Integer.parseInt(memory[0]), "memory", List.of("memory")), records::add);
             io.cgscope.bpf.OomKills bySystemd = new io.cgscope.bpf.OomKills(16384, io.cgscope.bpf.BpfHierarchy.v1(
                     Integer.parseInt(systemd[0]), "name=systemd", List.of()), r -> { })) {
            assertTrue(byMemory.start(), byMemory.programs().toString());
            assertTrue(bySystemd.start(), bySystemd.programs().toString());
            Path ownSystemdDir = Path.of("/sys/fs/cgroup/systemd", systemd[2]);
            assumeTrue(Files.isDirectory(ownSystemdDir), "name=systemd is not mounted at /sys/fs/cgroup/systemd");
            long ownSystemd = TestCgroups.id(ownSystemdDir);
            long systemdBefore = counted(bySystemd, ownSystemd);
            v2 = new TestCgroups();
            Path victim = v2.create("v1oom.service");
            long pid = killer.kill(victim, v2.parentPath() + "/v1oom.service");
            Await.until(WAIT, () -> records.stream().anyMatch(r -> r.pid() == pid), () -> "no record of the kill of " + pid
                    + ": " + records);
            io.cgscope.bpf.OomRecord r = records.stream().filter(x -> x.pid() == pid).findFirst().orElseThrow();
            assertEquals(killer.lastMemcgPath(), r.cgroupPath(), "the victim's cgroup in the memory hierarchy");
            assertEquals(r.victimMemcgId(), r.cgroupId(), "the same cgroup as the victim's own memcg");
            assertEquals(1, counted(byMemory, r.cgroupId()), "counted once for its v1 memory cgroup");
            long systemdAfter = counted(bySystemd, ownSystemd); // other kills of processes there may add
            assertTrue(systemdAfter >= systemdBefore + 1, "counted for its name=systemd cgroup: " + systemdBefore + " -> "
                    + systemdAfter);
        }
    }
}
