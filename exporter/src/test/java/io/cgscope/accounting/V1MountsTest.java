package io.cgscope.accounting;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class V1MountsTest {
    @Test
    void controllersOfThisHybridHost() {
        // /proc/self/mountinfo of the test machine (cgroup lines, and others around them)
        List<String> lines = List.of(
                "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard",
                "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
                "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
                "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio",
                "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
                "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
                "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
                // a co-mounted hierarchy, a bind mount of a subtree (not a hierarchy root), optional fields
                "50 22 0:40 / /cg/cpu,cpuacct rw shared:5 master:2 - cgroup cgroup rw,cpu,cpuacct,clone_children",
                "51 22 0:32 /process_api /mnt/memsub rw - cgroup cgroup rw,memory");
        Map<String, String> m = V1Mounts.controllers(lines);
        assertEquals("/sys/fs/cgroup/cpu", m.get("cpu"), "the first mount wins");
        assertEquals("/sys/fs/cgroup/memory", m.get("memory"));
        assertEquals("/sys/fs/cgroup/blkio", m.get("blkio"));
        assertEquals("/sys/fs/cgroup/pids", m.get("pids"));
        assertEquals(List.of("cpu", "cpuacct", "memory", "blkio", "pids"), List.copyOf(m.keySet()),
                "name=systemd and mount options are no controllers; cgroup2 is not v1");
    }
}
