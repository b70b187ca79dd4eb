package io.cgscope.index;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.cgroupfs.SweepLoop;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.testing.Await;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.ReaderFaults;
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
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The index against the real kernel: real cgroups under a unique parent, a real fanotify mark. */
@KernelTest
class IndexKernelTest {
    private CgroupFs fs;
    private TestCgroups cgroups;
    private CgroupIndex index;
    private CgroupWatcher watcher;
    private SweepLoop sweeps;

    @BeforeEach
    void setUp() throws Exception {
        fs = CgroupFs.open(null);
        cgroups = new TestCgroups();
        index = new CgroupIndex(Duration.ofMinutes(15), new FakeTicker(), Clock.systemUTC());
        index.setResolver(new KernelLookup(fs));
    }

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
        if (sweeps != null) {
            sweeps.close();
        }
        cgroups.close();
        fs.close();
    }

    private void watch(boolean unlimited) throws Exception {
        watcher = new CgroupWatcher(fs, index, unlimited);
        watcher.start();
    }

    /** Waits until the live cgroups of the index equal the tree below the test parent, ids included. */
    private void awaitIndexEqualsTree() {
        Await.until(Duration.ofSeconds(30), () -> {
            try {
                return cgroups.tree().equals(cgroups.indexed(index));
            } catch (IOException e) {
                return false;
            }
        }, () -> "index " + cgroups.indexed(index).size() + " live vs tree");
    }

    @Test
    void startReturnsWithTheIndexEqualToTheTree() throws Exception {
        for (int i = 0; i < 50; i++) {
            cgroups.create("pre" + i + ".slice/unit" + i + ".service");
        }
        watch(true);
        assertEquals(cgroups.tree(), cgroups.indexed(index), "right after start(), without waiting");
        assertEquals("/", index.pathOf(fs.rootId()));
        assertEquals("fanotify", index.health().status().mode().label());
    }

    @Test
    void tenThousandShortLivedCgroupsAllResolveDead() throws Exception {
        watch(true);
        Map<Long, String> expected = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            if (i % 10 == 0) {
                // Nested three deep, removed at once: parents are often gone before their CREATE is read.
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
            if (!e.getValue().equals(c.path())) {
                wrong.add(e.getKey() + ": expected " + e.getValue() + ", got " + c.path());
            }
        }
        assertEquals(List.of(), wrong.stream().limit(10).toList());
        assertEquals(Map.of(TestCgroups.id(cgroups.parent()), cgroups.parentPath()), cgroups.indexed(index),
                "only the test parent is live below itself");
    }

    @Test
    void aPathRemovedAndCreatedAgainKeepsBothIds() throws Exception {
        watch(true);
        Path p = cgroups.create("again.service");
        long first = TestCgroups.id(p);
        Files.delete(p);
        p = cgroups.create("again.service");
        long second = TestCgroups.id(p);
        String path = cgroups.parentPath() + "/again.service";
        Await.until(Duration.ofSeconds(10), () -> index.byPath(path).size() == 2,
                () -> "byPath gives " + index.byPath(path));
        List<Cgroup> both = index.byPath("/" + path);
        assertEquals(List.of(second, first), both.stream().map(Cgroup::id).toList(), "newest first");
        assertEquals(List.of(State.LIVE, State.DEAD), both.stream().map(Cgroup::state).toList());
    }

    @Test
    void overflowOfTheBoundedQueueIsRepairedByAResync() throws Exception {
        watch(false);
        Path doomed = cgroups.create("doomed.service");
        long doomedId = TestCgroups.id(doomed);
        Await.until(Duration.ofSeconds(10), () -> index.byId(doomedId).isPresent(), () -> "doomed not indexed");
        // Not Files.readString: on JDK 25 it returned "1" for this 6-byte procfs file (readAllLines is right).
        int limit = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/fs/fanotify/max_queued_events")).getFirst().strip());
        AutoCloseable release = ReaderFaults.hold(watcher);
        try {
            // 2 events per cgroup: more than the queue holds.
            for (int i = 0; i < limit / 2 + 1000; i++) {
                Files.delete(cgroups.create("burst" + i));
            }
            Files.delete(doomed); // its DELETE is lost in the overflow
            for (int i = 0; i < 20; i++) {
                cgroups.create("after" + i + ".slice/x.service"); // their CREATEs are lost too
            }
        } finally {
            release.close();
        }
        Await.until(Duration.ofSeconds(30), () -> index.health().get(IndexHealth.Counter.RESYNCS) >= 1,
                () -> "no re-sync; overflows " + index.health().get(IndexHealth.Counter.OVERFLOWS) + ", creates "
                        + index.health().get(IndexHealth.Counter.CREATE_EVENTS) + ", deletes " + index.health().get(IndexHealth.Counter.DELETE_EVENTS));
        assertTrue(index.health().get(IndexHealth.Counter.OVERFLOWS) >= 1, "a real FAN_Q_OVERFLOW was read");
        awaitIndexEqualsTree();
        assertEquals(State.DEAD, index.byId(doomedId).orElseThrow().state(), "the re-sync found it gone");
        assertEquals(Source.RESYNC, index.byPath(cgroups.parentPath() + "/after7.slice/x.service").getFirst().source());
    }

    @Test
    void sweepModeKeepsTheIndexRight() throws Exception {
        sweeps = new SweepLoop(fs, index, Duration.ofMillis(200));
        sweeps.start("test");
        assertEquals("sweep", index.health().status().mode().label());
        Path stays = cgroups.create("sweep.slice/stays.service");
        Path goes = cgroups.create("sweep.slice/goes.service");
        long goesId = TestCgroups.id(goes);
        awaitIndexEqualsTree();
        Files.delete(goes);
        Await.until(Duration.ofSeconds(10), () -> index.byId(goesId).map(c -> !c.isLive()).orElse(false),
                () -> "removed cgroup still live");
        assertEquals(cgroups.parentPath() + "/sweep.slice/stays.service", index.pathOf(TestCgroups.id(stays)));
        assertEquals(cgroups.parentPath() + "/sweep.slice/goes.service", index.byId(goesId).orElseThrow().path());
    }

    @Test
    void namesWithSpecialCharactersResolveExactly() throws Exception {
        watch(true);
        List<String> names = List.of("with space", "quote\"d", "it's", "back\\slash", "k=v", "host:port",
                "Grüße", "日本語.service", "tab\there", "%41");
        Map<Long, String> expected = new LinkedHashMap<>();
        for (String name : names) {
            Path p = cgroups.create("odd.slice/" + name);
            expected.put(TestCgroups.id(p), cgroups.parentPath() + "/odd.slice/" + name);
        }
        Await.until(Duration.ofSeconds(10), () -> expected.keySet().stream().allMatch(id -> index.byId(id).isPresent()),
                () -> "not all indexed");
        for (Map.Entry<Long, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), index.pathOf(e.getKey()));
            assertEquals(List.of(e.getKey()), index.byPath(e.getValue()).stream().map(Cgroup::id).toList(), e.getValue());
        }
    }

    @Test
    void aBurstInOneDirectoryIsAnsweredByOneListing() throws Exception {
        watch(true);
        Path burst = cgroups.create("burst.slice");
        awaitIndexEqualsTree();
        long listedBefore = index.health().get(IndexHealth.Counter.CHILD_IDS_LISTED);
        Map<Long, String> gone = new LinkedHashMap<>();
        List<String> odd = List.of("with space", "quote\"d", "back\\slash", "k=v", "host:port", "Grüße", "日本語.service");
        AutoCloseable release = ReaderFaults.hold(watcher); // the whole burst arrives in one read
        try {
            for (int i = 0; i < 300; i++) {
                String name = (i < odd.size() ? odd.get(i) + " " : "task") + i + ".scope";
                Path p = Files.createDirectory(burst.resolve(name));
                String path = cgroups.mount().relativize(p).toString();
                if (i % 3 == 0) { // short-lived: gone before the listing
                    gone.put(TestCgroups.id(p), path);
                    Files.delete(p);
                } else if (i % 3 == 1) { // created again: its CREATE merges into the first one, the live id is new
                    gone.put(TestCgroups.id(p), path);
                    Files.delete(p);
                    Files.createDirectory(p);
                }
            }
        } finally {
            release.close();
        }
        awaitIndexEqualsTree(); // every live cgroup with its current id, also those created again
        Await.until(Duration.ofSeconds(10), () -> gone.keySet().stream()
                .allMatch(id -> index.byId(id).map(c -> !c.isLive()).orElse(false)), () -> "removed ids not dead");
        for (Map.Entry<Long, String> e : gone.entrySet()) {
            assertEquals(e.getValue(), index.byId(e.getKey()).orElseThrow().path());
        }
        assertTrue(index.health().get(IndexHealth.Counter.CHILD_IDS_LISTED) - listedBefore >= 200,
                "the 300 CREATEs (100 merged away) were answered by listing burst.slice, not name by name: "
                        + (index.health().get(IndexHealth.Counter.CHILD_IDS_LISTED) - listedBefore) + " listed, "
                        + index.health().get(IndexHealth.Counter.CHILD_IDS_LOOKED_UP) + " looked up");
    }

    @Test
    void aNewParentsBurstIsListedThroughItsId() throws Exception {
        watch(true);
        long listedBefore = index.health().get(IndexHealth.Counter.CHILD_IDS_LISTED);
        AutoCloseable release = ReaderFaults.hold(watcher); // the parent's CREATE and its children's arrive in one read
        try {
            for (int i = 0; i < 30; i++) {
                cgroups.create("fresh.slice/job" + i + ".scope");
            }
        } finally {
            release.close();
        }
        awaitIndexEqualsTree();
        // The index had no path for fresh.slice when the batch was prepared: it was opened by its id.
        assertTrue(index.health().get(IndexHealth.Counter.CHILD_IDS_LISTED) - listedBefore >= 30,
                "listed " + (index.health().get(IndexHealth.Counter.CHILD_IDS_LISTED) - listedBefore));
    }

    @Test
    void aBigDirectoryIsNotListedForAFewNames() throws Exception {
        watch(true);
        for (int i = 0; i < 100; i++) {
            cgroups.create("big.slice/unit" + i + ".service");
        }
        awaitIndexEqualsTree();
        long lookedUpBefore = index.health().get(IndexHealth.Counter.CHILD_IDS_LOOKED_UP);
        AutoCloseable release = ReaderFaults.hold(watcher);
        Path stays;
        long goneId;
        try {
            stays = cgroups.create("big.slice/new.service");
            Path goes = cgroups.create("big.slice/goes.service");
            goneId = TestCgroups.id(goes);
            Files.delete(goes);
        } finally {
            release.close();
        }
        awaitIndexEqualsTree();
        Await.until(Duration.ofSeconds(10), () -> index.byId(goneId).map(c -> !c.isLive()).orElse(false),
                () -> "goes.service not dead");
        assertEquals(cgroups.parentPath() + "/big.slice/new.service", index.pathOf(TestCgroups.id(stays)));
        // 2 CREATEs in a directory of about 120 entries, more than 16 per CREATE: the listing stops at its
        // budget, so it may answer a name it happened to reach, but never says "gone": the removed one is looked up.
        assertTrue(index.health().get(IndexHealth.Counter.CHILD_IDS_LOOKED_UP) - lookedUpBefore >= 1,
                "looked up " + (index.health().get(IndexHealth.Counter.CHILD_IDS_LOOKED_UP) - lookedUpBefore));
    }

    @Test
    void anIdTheIndexMissedIsFoundOnDemand() throws Exception {
        // No watcher: the index knows only the root, as if the event were still queued.
        index.root(fs.rootId());
        Path p = cgroups.create("ondemand.service");
        long id = TestCgroups.id(p);
        Cgroup c = index.lookup(id).orElseThrow();
        assertEquals(cgroups.parentPath() + "/ondemand.service", c.path());
        assertEquals(Source.LOOKUP, c.source());
        index.flush();
        assertEquals(cgroups.parentPath() + "/ondemand.service", index.pathOf(id), "added with its ancestors");
        assertTrue(index.lookup(Long.MAX_VALUE - 5).isEmpty(), "an id that never existed");
    }
}
