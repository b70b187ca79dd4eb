package io.cgscope.cgroupfs;

import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sweep against real cgroups: a directory of many cgroups is walked with one open directory
 * per level, not one per sibling, so a sweep fits in the fd reserve HTTP leaves the index.
 */
@KernelTest
class SweeperKernelTest {
    private static final int WIDE = 400;

    @Test
    void aWideDirectoryTakesFewFdsAndEveryCgroupFollowsItsParent() throws Exception {
        try (TestCgroups cgroups = new TestCgroups(); CgroupFs fs = CgroupFs.open(null); Sweeper sweeper = new Sweeper(fs)) {
            Path wide = cgroups.create("wide");
            for (int i = 0; i < WIDE; i++) {
                cgroups.create("wide/c" + i);
            }
            Path deep = cgroups.create("wide/c7/a/b/c");
            long wideId = TestCgroups.id(wide);
            Set<Long> ours = new HashSet<>();
            try (Stream<Path> walk = Files.walk(cgroups.parent())) {
                walk.filter(Files::isDirectory).forEach(d -> ours.add(TestCgroups.id(d)));
            }
            ours.remove(TestCgroups.id(cgroups.parent()));

            Set<Long> visited = new HashSet<>();
            Map<Long, Long> parents = new HashMap<>();
            long baseline = openFds();
            long[] most = {baseline};
            boolean[] orphan = {false};
            sweeper.sweep((id, parentId, name) -> {
                orphan[0] |= parentId != fs.rootId() && !visited.contains(parentId);
                visited.add(id);
                if (ours.contains(id)) {
                    parents.put(id, parentId);
                }
                if (parentId == wideId) {
                    most[0] = Math.max(most[0], openFds());
                }
            });

            assertEquals(ours, parents.keySet(), "every test cgroup visited");
            assertEquals(wideId, parents.get(TestCgroups.id(cgroups.parent().resolve("wide/c399"))));
            assertEquals(TestCgroups.id(deep.getParent()), parents.get(TestCgroups.id(deep)));
            assertTrue(!orphan[0], "a cgroup was visited before its parent");
            // Before: one fd per sibling still to be walked (~400 here). Now: one per level (the
            // host's tree above the test parent is a few levels deep), plus whatever the JVM opens.
            assertTrue(most[0] - baseline < 40, "fds open while visiting " + WIDE + " siblings: "
                    + (most[0] - baseline) + " above the " + baseline + " before the sweep");
            assertTrue(openFds() - baseline < 5, "every directory closed after the sweep: " + (openFds() - baseline) + " more fds");
        }
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count() - 1; // the listing's own
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
