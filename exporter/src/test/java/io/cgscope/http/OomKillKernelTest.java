package io.cgscope.http;

import io.cgscope.OomComponent;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.metrics.OomKillCollector;
import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.ControllerCgroups;
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
    private static final long LIMIT = 32L << 20;

    private LiveIndex live;
    private OomComponent oom;
    private TestCgroups v2;
    private ControllerCgroups memory;
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
        if (memory != null) {
            memory.close();
        }
        if (v2 != null) {
            v2.close();
        }
        if (live != null) {
            live.close();
        }
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The memory cgroup with its limit, and the victim's cgroup2 cgroup (the same directory on a pure cgroup2 host). */
    private Path[] cgroups(String name) {
        Path mem = memory.create(name);
        if (memory.isV1()) {
            write(mem.resolve("memory.limit_in_bytes"), Long.toString(LIMIT));
            if (Files.exists(mem.resolve("memory.memsw.limit_in_bytes"))) {
                write(mem.resolve("memory.memsw.limit_in_bytes"), Long.toString(LIMIT)); // no escape into swap
            }
            return new Path[] {mem, v2.create(name)};
        }
        write(mem.resolve("memory.max"), Long.toString(LIMIT));
        if (Files.exists(mem.resolve("memory.swap.max"))) {
            write(mem.resolve("memory.swap.max"), "0");
        }
        return new Path[] {mem, mem};
    }

    /** A dd whose 64 MiB buffer cannot fit under the 32 MiB limit: the kernel kills it. Returns its pid. */
    private static long oomKill(Path mem, Path victim) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("sh", "-c", "echo $$ > \"$1\"/cgroup.procs && echo $$ > \"$2\"/cgroup.procs"
                    + " && exec dd if=/dev/zero of=/dev/null bs=64M count=1", "sh", victim.toString(), mem.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(p.waitFor(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS), "dd was not killed");
        assertEquals(128 + 9, p.exitValue(), "dd ended by SIGKILL");
        return p.pid();
    }

    /** rmdir as soon as the kernel lets it (a killed task leaves its cgroup a moment after it is reaped). */
    private static void remove(Path dir) {
        Await.until(WAIT, () -> {
            try {
                Files.deleteIfExists(dir);
                return true;
            } catch (IOException busy) {
                return false;
            }
        }, () -> "cannot remove " + dir);
    }

    private static long kernelOomKills(Path mem, boolean v1) {
        try {
            for (String line : Files.readAllLines(mem.resolve(v1 ? "memory.oom_control" : "memory.events"))) {
                if (line.startsWith("oom_kill ")) {
                    return Long.parseLong(line.substring(9).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no oom_kill in " + mem);
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
    void aKilledProcessCountsForItsRemovedCgroupAndTheSamePathCountsOn() throws Exception {
        memory = ControllerCgroups.of("memory").orElse(null);
        assumeTrue(memory != null, "no memory controller on this host, neither in v1 nor in cgroup2");
        v2 = new TestCgroups();
        String label = (memory.isV1() ? v2.parentPath() : memory.parentPath()) + "/oom.service";
        OomKillCollector collector = new OomKillCollector(live.index, oom.kills(), new CgroupLabels(0, null, null),
                Duration.ofMinutes(15));
        try (SseClient sse = new SseClient(live.server.port(), null)) {
            assertEquals(200, sse.status);
            Path[] first = cgroups("oom.service");
            Await.until(WAIT, () -> live.index.pathOf(TestCgroups.id(first[1])) != null, () -> "not indexed: " + label);
            long victimId = TestCgroups.id(first[1]);
            long pid = oomKill(first[0], first[1]);
            assertEquals(1, kernelOomKills(first[0], memory.isV1()), "the kernel counted one kill");
            // the container goes right after the kill
            remove(first[0]);
            if (first[1] != first[0]) {
                remove(first[1]);
            }
            JsonObject kill = awaitKill(sse, label);
            assertNotNull(kill, "no oom_kill for " + label + " on /events within " + WAIT);
            assertEquals(pid, kill.getLong("pid"));
            assertEquals("dd", kill.getString("comm"));
            assertEquals(victimId, kill.getJsonObject("cgroup").getLong("id"));
            assertEquals("cgroup", kill.getString("scope"), kill.encode());
            JsonObject memcg = kill.getJsonObject("memcg");
            assertNotNull(memcg, kill.encode());
            assertTrue(memcg.getString("path").endsWith(memory.parentPath() + "/oom.service"), kill.encode());
            assertEquals(memory.isV1() ? "memory" : "cgroup2", memcg.getString("hierarchy"));
            assertTrue(List.of("oom_control", "inferred").contains(kill.getString("memcg_found_by")), kill.encode());
            assertNotNull(kill.getString("time"));
            assertEquals(1.0, kills(collector.collect(), label), "one kill, its cgroup removed");

            // the same path again: the series counts on
            Path[] second = cgroups("oom.service");
            Await.until(WAIT, () -> live.index.pathOf(TestCgroups.id(second[1])) != null, () -> "not indexed again");
            assertTrue(TestCgroups.id(second[1]) != victimId, "a new cgroup");
            assertEquals(1.0, kills(collector.collect(), label), "nothing yet in the new one");
            oomKill(second[0], second[1]);
            assertNotNull(awaitKill(sse, label), "the second kill on /events");
            assertEquals(2.0, kills(collector.collect(), label), "counts on from 1");
        }
    }
}
