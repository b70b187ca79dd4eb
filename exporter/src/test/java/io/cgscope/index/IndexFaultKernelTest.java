package io.cgscope.index;

import io.cgscope.IndexComponent;
import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.linux.Errno;
import io.cgscope.linux.SyscallException;
import io.cgscope.testing.Await;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.ReaderFaults;
import io.cgscope.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Faults the index must survive, against the real kernel through the real IndexComponent. */
@KernelTest
class IndexFaultKernelTest {
    private TestCgroups cgroups;
    private CgroupIndex index;
    private IndexComponent component;

    @BeforeEach
    void setUp() throws Exception {
        cgroups = new TestCgroups();
        Config config = ((Flags.Run) Flags.parse("--cgroup.sweep-interval=200ms", "--bpf.programs=")).config();
        index = new CgroupIndex(config.retention());
        component = new IndexComponent(config, index);
        component.start();
        assertEquals("fanotify", index.health().status().mode().label());
    }

    @AfterEach
    void tearDown() {
        component.stop();
        cgroups.close();
    }

    private void assertIndexed(String relative) {
        Path p = cgroups.create(relative);
        long id = TestCgroups.id(p);
        Await.until(Duration.ofSeconds(10), () -> index.byId(id).isPresent(), () -> relative + " not indexed");
        assertEquals(cgroups.parentPath() + "/" + relative, index.pathOf(id));
    }

    @Test
    void aFailingReaderRestartsOnTheSameFdAndResyncs() {
        assertIndexed("before.service");
        ReaderFaults.failOnce(component.watcher(), new IllegalStateException("injected reader failure"));
        Await.until(Duration.ofSeconds(10), () -> index.health().get(IndexHealth.Counter.READER_RESTARTS) == 1, () -> "no restart");
        Await.until(Duration.ofSeconds(10), () -> index.health().status().notFollowing() == null,
                () -> "still not following: " + index.health().status().notFollowing());
        assertEquals(1, index.health().get(IndexHealth.Counter.RESYNCS), "the restart re-synced");
        assertIndexed("after.service");
        assertEquals("fanotify", index.health().status().mode().label());
    }

    @Test
    void aLostFdIsReplacedWhilePrivileged() throws Exception {
        component.watcher().fd().close();
        Await.until(Duration.ofSeconds(10), () -> index.health().get(IndexHealth.Counter.READER_RESTARTS) >= 1, () -> "no restart");
        assertIndexed("newfd.service");
        assertEquals("fanotify", index.health().status().mode().label());
        assertNull(index.health().status().degraded());
    }

    @Test
    void aLostFdFallsBackToSweepsWhenANewMarkIsRefused() throws Exception {
        // As after --run-as: a new fanotify group needs CAP_SYS_ADMIN, which is gone.
        ReaderFaults.refuseNewMarks(component.watcher(),
                new SyscallException("fanotify_init(FAN_CLASS_NOTIF|FAN_REPORT_DFID_NAME_TARGET)", Errno.EPERM));
        component.watcher().fd().close();
        Await.until(Duration.ofSeconds(10), () -> "sweep".equals(index.health().status().mode().label()), () -> "no fallback");
        String degraded = index.health().status().degraded();
        assertNotNull(degraded);
        assertTrue(degraded.contains("EPERM"), degraded);
        assertNull(index.health().status().notFollowing(), "sweeps keep following");
        assertIndexed("swept.slice/found.service");
    }

    @Test
    void removingAParentWithEntriesBelowLeavesAConsistentIndex() throws Exception {
        Path a = cgroups.create("gone.slice");
        Path b = cgroups.create("gone.slice/sub.slice");
        Path c = cgroups.create("gone.slice/sub.slice/leaf.service");
        List<Long> ids = List.of(TestCgroups.id(a), TestCgroups.id(b), TestCgroups.id(c));
        Await.until(Duration.ofSeconds(10), () -> ids.stream().allMatch(id -> index.byId(id).isPresent()),
                () -> "not indexed");
        Files.delete(c);
        Files.delete(b);
        Files.delete(a);
        Await.until(Duration.ofSeconds(10), () -> ids.stream().allMatch(id -> !index.byId(id).orElseThrow().isLive()),
                () -> "still live");
        assertEquals(cgroups.parentPath() + "/gone.slice/sub.slice/leaf.service", index.pathOf(ids.get(2)));
        assertEquals(0, index.health().get(IndexHealth.Counter.READER_RESTARTS));
        assertEquals(0, index.health().get(IndexHealth.Counter.MALFORMED_EVENTS));
        assertIndexed("gone.slice"); // the same path again: a new id, both resolve
        assertEquals(2, index.byPath(cgroups.parentPath() + "/gone.slice").size());
    }
}
