package io.cgscope.cgroupfs;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountinfoTest {
    @Test
    void findsTheHierarchyRootNotASubtree() {
        List<String> lines = List.of(
                "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
                "30 22 0:26 /kubepods/pod1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw",
                "31 22 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu",
                "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate");
        assertEquals(2, Mountinfo.cgroup2Mounts(lines).size());
        assertEquals("/sys/fs/cgroup/unified", Mountinfo.hierarchyRoot(lines).orElseThrow().mountPoint());
    }

    @Test
    void aHostMountSeenFromACgroupNamespaceIsTheWholeHierarchy() {
        List<String> lines = List.of(
                "30 22 0:26 / /sys/fs/cgroup ro - cgroup2 cgroup2 rw",
                "31 22 0:26 /../../.. /host/cgroup ro - cgroup2 cgroup2 rw");
        assertTrue(Mountinfo.cgroup2Mounts(lines).get(1).isHierarchyRoot());
        assertTrue(!new Mountinfo.Mount("/x", "/kubepods/pod1").isHierarchyRoot());
    }

    @Test
    void unescapesOctalInMountPoints() {
        List<String> lines = List.of("41 31 0:38 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw");
        assertEquals("/mnt/cg two", Mountinfo.hierarchyRoot(lines).orElseThrow().mountPoint());
    }

    @Test
    void noneWithoutCgroup2() {
        assertTrue(Mountinfo.hierarchyRoot(List.of("22 1 8:1 / / rw - ext4 /dev/vda rw")).isEmpty());
    }
}
