package io.cgscope.cgroupfs;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hierarchy discovery on the texts of this machine (a hybrid layout) and of others. */
class HierarchiesTest {
    /** /proc/self/mountinfo here (2026-12-07), plus a bind mount of a subtree and a co-mounted pair. */
    private static final List<String> MOUNTINFO = List.of(
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
            "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
            "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset",
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
            "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices",
            "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd",
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
            "50 23 0:32 /process_api /mnt/memsub rw,relatime - cgroup cgroup rw,memory",
            "51 23 0:39 / /mnt/net rw,relatime - cgroup cgroup rw,net_cls,net_prio");
    private static final List<String> SELF = List.of("9:name=systemd:/", "8:pids:/", "7:net_cls,net_prio:/",
            "5:devices:/", "4:memory:/process_api/61d4", "3:cpuset:/", "2:cpuacct:/", "1:cpu:/", "0::/");

    @Test
    void v1HierarchiesAreNamedAndNumberedAsTheKernelDoes() {
        List<Hierarchies.Hierarchy> v1 = Hierarchies.v1(MOUNTINFO, SELF);
        assertEquals(List.of("1 cpu /sys/fs/cgroup/cpu", "2 cpuacct /sys/fs/cgroup/cpuacct",
                "3 cpuset /sys/fs/cgroup/cpuset", "4 memory /sys/fs/cgroup/memory", "5 devices /sys/fs/cgroup/devices",
                "7 net_cls,net_prio /mnt/net", "9 name=systemd /sys/fs/cgroup/systemd"),
                v1.stream().map(h -> h.id() + " " + h.name() + " " + h.mountPoint()).toList());
        assertEquals(List.of(), Hierarchies.byId(v1, 9).orElseThrow().controllers());
        assertEquals(List.of("net_cls", "net_prio"), Hierarchies.byId(v1, 7).orElseThrow().controllers());
    }

    @Test
    void autoTakesUnifiedWhenItHoldsProcessesElseTheV1HierarchyWithTheMostCgroups() {
        List<Hierarchies.Hierarchy> v1 = Hierarchies.v1(MOUNTINFO, SELF);
        Hierarchies.Hierarchy unified = new Hierarchies.Hierarchy(0, "unified", "/sys/fs/cgroup/unified", List.of());
        // This machine: everything at the unified root, the machine's own processes in v1 memory cgroups.
        Map<Integer, Hierarchies.Holding> here = Hierarchies.holding(List.of(
                List.of("4:memory:/process_api/a", "1:cpu:/", "0::/"),
                List.of("4:memory:/process_api/a", "0::/"),
                List.of("4:memory:/process_api/b", "9:name=systemd:/x", "0::/"),
                List.of("4:memory:/", "0::/")));
        assertEquals(new Hierarchies.Holding(3, 2), here.get(4));
        Hierarchies.Choice c = Hierarchies.choose("auto", unified, v1, here);
        assertEquals("memory", c.hierarchy().name());
        assertTrue(c.why().contains("holds 3 in 2 cgroups"), c.why());
        // A unified host: its processes below the unified root win.
        assertEquals("unified", Hierarchies.choose("auto", unified, v1,
                Hierarchies.holding(List.of(List.of("0::/system.slice/x.service")))).hierarchy().name());
        assertEquals("unified", Hierarchies.choose("auto", unified, v1, Map.of()).hierarchy().name());
        assertEquals("cpu", Hierarchies.choose("auto", null, v1, Map.of()).hierarchy().name(), "no cgroup2: the first v1");
    }

    @Test
    void aControllerOrANameSelectsItsHierarchyAndAnythingElseIsOneLine() {
        List<Hierarchies.Hierarchy> v1 = Hierarchies.v1(MOUNTINFO, SELF);
        Hierarchies.Hierarchy unified = new Hierarchies.Hierarchy(0, "unified", "/sys/fs/cgroup/unified", List.of());
        assertEquals(4, Hierarchies.choose("memory", unified, v1, Map.of()).hierarchy().id());
        assertEquals(7, Hierarchies.choose("net_prio", unified, v1, Map.of()).hierarchy().id());
        assertEquals(9, Hierarchies.choose("name=systemd", unified, v1, Map.of()).hierarchy().id());
        assertEquals(0, Hierarchies.choose("unified", unified, v1, Map.of()).hierarchy().id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Hierarchies.choose("hugetlb", unified, v1, Map.of()));
        assertEquals("no mounted cgroup v1 hierarchy has hugetlb (mounted: unified, cpu, cpuacct, cpuset, memory,"
                + " devices, net_cls,net_prio, name=systemd)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Hierarchies.choose("unified", null, v1, Map.of()));
    }
}
