package io.cgscope.lifecycle;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;
import io.cgscope.index.State;
import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The BPF index source against the real kernel: real cgroups under a unique parent, real tracepoint programs. */
@KernelTest({ROOT, CGROUP2, BPF})
class LifecycleKernelTest {
    private CgroupFs fs;
    private TestCgroups cgroups;
    private CgroupIndex index;
    private LifecycleWatcher watcher;

    @BeforeEach
    void setUp() throws Exception {
        fs = CgroupFs.open(null);
        cgroups = new TestCgroups();
        index = new CgroupIndex(Duration.ofMinutes(15), com.github.benmanes.caffeine.cache.Ticker.systemTicker(),
                Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
        cgroups.close();
        fs.close();
    }

    private void watch(int ringBytes) throws Exception {
        watcher = new LifecycleWatcher(fs, index, ringBytes);
        watcher.start();
    }

    @Test
    void startReturnsWithTheIndexEqualToTheTreeAndFollowsIt() throws Exception {
        for (int i = 0; i < 50; i++) {
            cgroups.create("pre" + i + ".slice/unit" + i + ".service");
        }
        watch(1 << 20);
        assertEquals(cgroups.tree(), cgroups.indexed(index), "right after start(), without waiting");
        assertEquals("/", index.pathOf(fs.rootId()));
        assertEquals(io.cgscope.index.IndexHealth.Mode.BPF, index.health().status().mode());

        Path made = cgroups.create("later.slice/x.service");
        long id = TestCgroups.id(made);
        Await.until(Duration.ofSeconds(10), () -> index.byId(id).isPresent(), () -> "not indexed: " + id);
        Cgroup c = index.byId(id).orElseThrow();
        assertEquals(cgroups.parentPath() + "/later.slice/x.service", c.path());
        assertEquals(Source.EVENT, c.source());
        assertTrue(c.createdAt() != null, "an event gives the creation time");
        Files.delete(made);
        Await.until(Duration.ofSeconds(10), () -> index.byId(id).map(x -> x.state() == State.DEAD).orElse(false),
                () -> "not dead: " + index.byId(id));
        Await.until(Duration.ofSeconds(10), () -> {
            try {
                return cgroups.tree().equals(cgroups.indexed(index));
            } catch (IOException e) {
                return false;
            }
        }, () -> "index " + cgroups.indexed(index) + " vs tree");
    }

    @Test
    void tenThousandShortLivedCgroupsAllResolveDead() throws Exception {
        watch(1 << 20);
        Map<Long, String> expected = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            if (i % 10 == 0) {
                // Nested three deep, removed at once.
                Path a = cgroups.create("a" + i + ".slice");
                Path b = Files.createDirectory(a.resolve("b.slice"));
                Path c = Files.createDirectory(b.resolve("c.service"));
                for (Path p : List.of(a, b, c)) {
                    expected.put(TestCgroups.id(p), cgroups.mount().relativize(p).toString());
                }
                Files.delete(c);
                Files.delete(b);
                Files.delete(a);
            } else {
                Path p = cgroups.create("s" + i + ".service");
                expected.put(TestCgroups.id(p), cgroups.mount().relativize(p).toString());
                Files.delete(p);
            }
        }
        Await.until(Duration.ofSeconds(60), () -> expected.keySet().stream()
                .allMatch(id -> index.byId(id).map(c -> c.state() == State.DEAD).orElse(false)),
                () -> "missing or live: " + expected.keySet().stream()
                        .filter(id -> index.byId(id).map(c -> c.state() != State.DEAD).orElse(true)).limit(5).toList());
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<Long, String> e : expected.entrySet()) {
            Cgroup c = index.byId(e.getKey()).orElseThrow();
            if (!e.getValue().equals(c.path()) || c.createdAt() == null || c.source() != Source.EVENT) {
                wrong.add(e.getKey() + ": expected " + e.getValue() + ", got " + c);
            }
        }
        assertEquals(List.of(), wrong.stream().limit(10).toList());
        assertEquals(0, index.health().get(IndexHealth.Counter.OVERFLOWS), "no record lost");
        assertEquals(0, index.health().get(IndexHealth.Counter.MALFORMED_EVENTS));
    }

    @Test
    void namesWithSpecialCharactersAndTheLongestNameResolveExactly() throws Exception {
        watch(1 << 20);
        List<String> names = List.of("with space", "quote\"and\\backslash", "Grüße", "a=b:c", "x".repeat(255));
        Map<Long, String> expected = new LinkedHashMap<>();
        for (String n : names) {
            Path p = cgroups.create(n);
            expected.put(TestCgroups.id(p), cgroups.parentPath() + "/" + n);
            Files.delete(p);
        }
        Await.until(Duration.ofSeconds(10), () -> expected.keySet().stream().allMatch(id -> index.byId(id).isPresent()),
                () -> "missing: " + expected);
        for (Map.Entry<Long, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), index.pathOf(e.getKey()));
        }
    }

    @Test
    void aFullRingIsCountedAndRepairedByAResync() throws Exception {
        // The smallest ring (one page: about 80 short records) and a held reader, as a long stall would
        // hold it: the programs count what did not fit, and the reader re-syncs once it runs again.
        watch(4096);
        Path keep = cgroups.create("kept.slice");
        long keptId = TestCgroups.id(keep);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        watcher.holdReader(release);
        for (int i = 0; i < 300; i++) {
            Files.delete(cgroups.create("burst" + i));
        }
        release.countDown();
        Path late = cgroups.create("late.slice");
        Await.until(Duration.ofSeconds(30), () -> index.health().get(IndexHealth.Counter.RESYNCS) > 0 && index.byId(TestCgroups.id(late))
                .isPresent(), () -> "no re-sync: overflows " + index.health().get(IndexHealth.Counter.OVERFLOWS));
        assertTrue(index.health().get(IndexHealth.Counter.OVERFLOWS) > 0, "the loss was counted");
        // Counted as the reader notices (the host may keep overfilling the small ring meanwhile).
        long counted = index.health().get(IndexHealth.Counter.LOST_RECORDS);
        assertTrue(counted > 0 && counted <= watcher.lost(), counted + " counted, " + watcher.lost() + " lost");
        assertTrue(watcher.lost() > 0, "records lost: " + watcher.lost());
        Await.until(Duration.ofSeconds(10), () -> {
            try {
                return cgroups.tree().equals(cgroups.indexed(index));
            } catch (IOException e) {
                return false;
            }
        }, () -> "index " + cgroups.indexed(index) + " vs tree");
        assertTrue(index.byId(keptId).isPresent());
    }

    @Test
    void closeUnloadsThePrograms() throws Exception {
        Set<Long> before = BpfPrograms.heldBy(ProcessHandle.current().pid());
        watch(1 << 20);
        Set<Long> ours = new TreeSet<>(BpfPrograms.heldBy(ProcessHandle.current().pid()));
        ours.removeAll(before);
        assertEquals(2, ours.size(), "on_mkdir and on_rmdir: " + ours);
        watcher.close();
        watcher = null;
        Set<Long> after = BpfPrograms.heldBy(ProcessHandle.current().pid());
        assertFalse(after.stream().anyMatch(ours::contains), "still held: " + after);
        BpfPrograms.awaitUnloaded(ours, Duration.ofSeconds(10));
    }
}
