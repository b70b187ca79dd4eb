package io.cgscope.lifecycle;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.Hierarchies;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexKeeper;
import io.cgscope.index.State;
import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * cgroup v1 hierarchies against the real kernel: the v1 {@code cpu} and {@code name=systemd}
 * hierarchies of a hybrid host (test cgroups under a unique parent; never the v1 memory hierarchy,
 * where the machine's own processes live), kept by fanotify and by the shared BPF programs.
 */
@KernelTest({ROOT, CGROUP2, BPF})
class V1HierarchyKernelTest {
    private final List<AutoCloseable> closing = new ArrayList<>();
    private Hierarchies.Hierarchy cpu;
    private Hierarchies.Hierarchy systemd;

    @BeforeEach
    void setUp() {
        List<Hierarchies.Hierarchy> v1 = Hierarchies.v1(Hierarchies.read("/proc/self/mountinfo"),
                Hierarchies.read("/proc/self/cgroup"));
        cpu = v1.stream().filter(h -> h.tokens().contains("cpu")).findFirst().orElse(null);
        systemd = v1.stream().filter(h -> h.name().equals("name=systemd")).findFirst().orElse(null);
        assumeTrue(cpu != null && systemd != null, "needs the v1 cpu and name=systemd hierarchies mounted: " + v1);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closing.add(c);
        return c;
    }

    private static CgroupIndex newIndex() {
        return new CgroupIndex(Duration.ofMinutes(15), com.github.benmanes.caffeine.cache.Ticker.systemTicker(),
                Clock.systemUTC());
    }

    /** Short-lived cgroups below {@code cgroups}' parent, one in ten nested two deep: id -> path below the mount. */
    private static Map<Long, String> churn(TestCgroups cgroups, String prefix, int n) throws Exception {
        Map<Long, String> made = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Path c = cgroups.create(prefix + i + (i % 10 == 0 ? ".slice/unit.service" : ".service"));
            made.put(TestCgroups.id(c), cgroups.mount().relativize(c).toString());
            if (i % 10 == 0) {
                made.put(TestCgroups.id(c.getParent()), cgroups.mount().relativize(c.getParent()).toString());
                Files.delete(c);
                Files.delete(c.getParent());
            } else {
                Files.delete(c);
            }
        }
        return made;
    }

    private static void awaitAllDead(CgroupIndex index, Map<Long, String> made, String what) {
        List<String> wrong = new ArrayList<>();
        Await.until(Duration.ofSeconds(30), () -> {
            wrong.clear();
            made.forEach((id, path) -> {
                var c = index.byId(id);
                if (c.isEmpty() || c.get().state() != State.DEAD || !path.equals(c.get().path())) {
                    wrong.add(id + " " + path + ": " + c);
                }
            });
            return wrong.isEmpty();
        }, () -> what + ": " + wrong.size() + " of " + made.size() + " not resolved, e.g. " + wrong.stream().limit(3)
                .toList());
    }

    @Test
    void fanotifyKeepsTheV1CpuHierarchy() throws Exception {
        CgroupFs fs = closeLater(CgroupFs.openV1(Path.of(cpu.mountPoint())));
        CgroupIndex index = newIndex();
        CgroupWatcher watcher = closeLater(new CgroupWatcher(fs, index, true));
        watcher.start();
        assertEquals(IndexHealth.Mode.FANOTIFY, index.health().status().mode());
        TestCgroups cgroups = closeLater(new TestCgroups(Path.of(cpu.mountPoint())));
        Map<Long, String> made = churn(cgroups, "f", 1000);
        awaitAllDead(index, made, "cpu hierarchy via fanotify");
    }

    @Test
    void theSharedBpfProgramsKeepEachHierarchyApart() throws Exception {
        Set<Long> before = BpfPrograms.heldBy(ProcessHandle.current().pid());
        LifecycleHub hub = new LifecycleHub(1 << 20);
        Map<Integer, CgroupIndex> indexes = new LinkedHashMap<>();
        Map<Integer, TestCgroups> tests = new LinkedHashMap<>();
        for (Hierarchies.Hierarchy h : List.of(
                new Hierarchies.Hierarchy(0, "unified", TestCgroups.hierarchyRoot().orElseThrow().toString(), List.of()),
                cpu, systemd)) {
            CgroupFs fs = closeLater(h.unified() ? CgroupFs.open(null) : CgroupFs.openV1(Path.of(h.mountPoint())));
            Sweeper tree = closeLater(new Sweeper(fs));
            CgroupIndex index = newIndex();
            IndexKeeper keeper = new IndexKeeper(index, tree);
            closeLater(keeper);
            // Each hierarchy's keeper starts its source while the ones before are followed already.
            keeper.start(new LifecycleWatcher(hub, keeper, h.id()));
            assertEquals(IndexHealth.Mode.BPF, index.health().status().mode(), h.name());
            indexes.put(h.id(), index);
            tests.put(h.id(), closeLater(new TestCgroups(Path.of(h.mountPoint()))));
        }
        Set<Long> ours = new TreeSet<>(BpfPrograms.heldBy(ProcessHandle.current().pid()));
        ours.removeAll(before);
        assertEquals(2, ours.size(), "one pair of programs for the three hierarchies: " + ours);

        Map<Integer, Map<Long, String>> made = new LinkedHashMap<>();
        for (int round = 0; round < 3; round++) { // interleaved, so records of the three mix in the ring
            for (Map.Entry<Integer, TestCgroups> t : tests.entrySet()) {
                made.computeIfAbsent(t.getKey(), k -> new LinkedHashMap<>())
                        .putAll(churn(t.getValue(), "r" + round + "-", 300));
            }
        }
        for (Map.Entry<Integer, Map<Long, String>> m : made.entrySet()) {
            awaitAllDead(indexes.get(m.getKey()), m.getValue(), "hierarchy " + m.getKey());
        }
        // Ids are numbered per hierarchy: each index names its own, whatever the others hold.
        for (Map.Entry<Integer, CgroupIndex> e : indexes.entrySet()) {
            assertEquals(0, e.getValue().health().get(IndexHealth.Counter.OVERFLOWS), "hierarchy " + e.getKey());
        }
        // Closing every hierarchy's source detaches the shared programs.
        for (int i = closing.size() - 1; i >= 0; i--) {
            if (closing.get(i) instanceof IndexKeeper k) {
                k.close();
            }
        }
        BpfPrograms.awaitUnloaded(ours, Duration.ofSeconds(10));
    }
}
