package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CgroupIndexTest {
    private final FakeTicker ticker = new FakeTicker();
    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15), ticker, Clock.systemUTC());

    private static byte[] n(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    CgroupIndexTest() {
        index.root(1);
    }

    @Test
    void pathsAreRelativeToTheRoot() {
        index.created(10, 1, n("system.slice"), Source.EVENT);
        index.created(11, 10, n("nginx.service"), Source.EVENT);
        assertEquals("/", index.pathOf(1));
        assertEquals("system.slice", index.pathOf(10));
        assertEquals("system.slice/nginx.service", index.pathOf(11));
        Cgroup c = index.byId(11).orElseThrow();
        assertEquals(State.LIVE, c.state());
        assertEquals(10, c.parentId());
        assertNotNull(c.createdAt());
        assertNull(c.deletedAt());
        assertEquals(Source.EVENT, c.source());
        assertEquals(2, index.liveCount() - 1);
    }

    @Test
    void lateParentResolvesTheChildWhenItArrives() {
        // The child's DELETE arrives before anything about its parent (reader behind, parent gone).
        index.deleted(21, 20, n("c.service"), Source.EVENT);
        assertNull(index.pathOf(21), "the parent is not known yet");
        index.deleted(20, 1, n("a.slice"), Source.EVENT);
        assertEquals("a.slice/c.service", index.pathOf(21));
        assertEquals(State.DEAD, index.byId(21).orElseThrow().state());
    }

    @Test
    void deadEntriesExpireAfterTheRetentionAndTellListeners() {
        List<String> expired = new ArrayList<>();
        index.onExpired(c -> expired.add(c.path()));
        index.created(30, 1, n("short"), Source.EVENT);
        index.deleted(30, 1, n("short"), Source.EVENT);
        ticker.advance(Duration.ofMinutes(14));
        index.maintain();
        assertTrue(index.byId(30).isPresent(), "still retained before 15m");
        assertEquals(List.of(30L), index.byPath("short").stream().map(Cgroup::id).toList());
        ticker.advance(Duration.ofMinutes(2));
        index.maintain();
        assertTrue(index.byId(30).isEmpty(), "gone after 15m");
        assertEquals(List.of(), index.byPath("short"));
        assertEquals(1, expired.size());
        assertEquals("short", expired.getFirst());
        assertEquals(0, index.deadCount());
    }

    @Test
    void beyondTheBudgetTheOldestDeadGoFirstAndListenersHearWhileTheyAreStillThere() {
        CgroupIndex small = new CgroupIndex(Duration.ofMinutes(15), 3, ticker, Clock.systemUTC());
        small.root(1);
        List<String> heard = new ArrayList<>();
        small.onExpired(c -> heard.add(c.path() + (small.byId(c.id()).isPresent() ? " (still indexed)" : " (gone)")));
        for (int i = 0; i < 5; i++) {
            small.created(10 + i, 1, n("c" + i), Source.EVENT);
            small.deleted(10 + i, 1, n("c" + i), Source.EVENT);
        }
        small.created(20, 1, n("alive"), Source.EVENT);
        small.flush();
        assertEquals(List.of("c0 (still indexed)", "c1 (still indexed)"), heard);
        assertTrue(small.byId(10).isEmpty() && small.byId(11).isEmpty());
        assertTrue(small.byId(12).isPresent() && small.byId(20).isPresent(), "newer dead and live stay");
        assertEquals(3, small.deadCount());
        assertEquals(2, small.health().get(IndexHealth.Counter.RETENTION_OVER_BUDGET));
        assertEquals(List.of(), small.byPath("c0"), "its path lookup goes with it");
    }

    @Test
    void manyDeathsAreGivenUpOldestFirst() {
        // 100 restarts of one name (one long chain in the path index) in a budget of 10: one
        // flush gives up exactly the 90 oldest, in order, and the chain keeps the newest 10.
        CgroupIndex small = new CgroupIndex(Duration.ofMinutes(15), 10, ticker, Clock.systemUTC());
        small.root(1);
        List<Long> heard = new ArrayList<>();
        small.onExpired(c -> heard.add(c.id()));
        for (int i = 0; i < 100; i++) {
            small.deleted(1000 + i, 1, n("app.service"), Source.EVENT);
        }
        small.flush();
        assertEquals(java.util.stream.LongStream.range(1000, 1090).boxed().toList(), heard);
        assertEquals(java.util.stream.LongStream.range(1090, 1100).map(i -> 2189 - i).boxed().toList(),
                small.byPath("app.service").stream().map(Cgroup::id).toList(), "the newest 10, newest first");
        assertEquals(90, small.health().get(IndexHealth.Counter.RETENTION_OVER_BUDGET));

        // Then the retention: 40 deaths now and 5 ten minutes later; 16 minutes after the first
        // only those 40 expire, counted as expired, not over budget.
        CgroupIndex timed = new CgroupIndex(Duration.ofMinutes(15), 1000, ticker, Clock.systemUTC());
        timed.root(1);
        for (int i = 0; i < 40; i++) {
            timed.deleted(3000 + i, 1, n("old" + i), Source.EVENT);
        }
        ticker.advance(Duration.ofMinutes(10));
        for (int i = 0; i < 5; i++) {
            timed.deleted(4000 + i, 1, n("new" + i), Source.EVENT);
        }
        ticker.advance(Duration.ofMinutes(6));
        timed.maintain();
        assertEquals(5, timed.deadCount());
        assertEquals(40, timed.health().get(IndexHealth.Counter.RETENTION_EXPIRED));
        assertTrue(timed.byId(3039).isEmpty() && timed.byId(4000).isPresent() && timed.byId(4004).isPresent());
    }

    @Test
    void liveEntriesNeverExpire() {
        index.created(40, 1, n("long"), Source.EVENT);
        ticker.advance(Duration.ofDays(400));
        index.maintain();
        assertTrue(index.byId(40).isPresent());
    }

    @Test
    void aPathCreatedAgainKeepsBothIdsNewestFirst() {
        index.created(50, 1, n("app.service"), Source.EVENT);
        index.deleted(50, 1, n("app.service"), Source.EVENT);
        index.created(57, 1, n("app.service"), Source.EVENT);
        List<Cgroup> byPath = index.byPath("/app.service");
        assertEquals(List.of(57L, 50L), byPath.stream().map(Cgroup::id).toList());
        assertEquals(State.LIVE, byPath.get(0).state());
        assertEquals(State.DEAD, byPath.get(1).state());
    }

    @Test
    void byPathFollowsEveryIdOfEachAncestor() {
        index.created(60, 1, n("a"), Source.EVENT);
        index.created(61, 60, n("b"), Source.EVENT);
        index.deleted(61, 60, n("b"), Source.EVENT);
        index.deleted(60, 1, n("a"), Source.EVENT);
        index.created(70, 1, n("a"), Source.EVENT);
        index.created(71, 70, n("b"), Source.EVENT);
        assertEquals(List.of(71L, 61L), index.byPath("a/b").stream().map(Cgroup::id).toList());
        assertEquals(List.of(), index.byPath("a/c"));
        assertEquals(List.of(1L), index.byPath("/").stream().map(Cgroup::id).toList());
    }

    @Test
    void deleteOfAnUnknownIdAddsItDeadAndAnnouncesBoth() {
        long before = index.changes().lastSeq();
        index.createdUnknownId(1, n("blink"));
        index.deleted(80, 1, n("blink"), Source.EVENT);
        Cgroup c = index.byId(80).orElseThrow();
        assertEquals(State.DEAD, c.state());
        assertNotNull(c.createdAt(), "the CREATE seen without id gives the creation time");
        assertEquals(0, index.pendingCreates());
        List<IndexChange> changes = index.changes().after(before, 10);
        assertEquals(List.of(IndexChange.Type.CREATE, IndexChange.Type.DELETE),
                changes.stream().map(IndexChange::type).toList());
    }

    @Test
    void mergedCreatesGiveTheFirstDeleteTheTimeAndTheRestNone() {
        index.createdUnknownId(1, n("unit"));
        index.deleted(90, 1, n("unit"), Source.EVENT);
        index.deleted(91, 1, n("unit"), Source.EVENT);
        assertNotNull(index.byId(90).orElseThrow().createdAt());
        assertNull(index.byId(91).orElseThrow().createdAt());
        assertEquals(List.of(91L, 90L), index.byPath("unit").stream().map(Cgroup::id).toList());
    }

    @Test
    void pendingCreatesDroppedByAResyncCountAsUnresolved() {
        index.createdUnknownId(1, n("lost"));
        assertEquals(1, index.pendingCreates());
        index.reconcile(List.of(), Source.RESYNC, true); // their DELETEs were lost with the overflow
        assertEquals(0, index.pendingCreates());
        assertEquals(1, index.health().get(IndexHealth.Counter.UNRESOLVED));
    }

    @Test
    void reconcileMakesLiveEntriesEqualTheTree() {
        index.created(100, 1, n("stays"), Source.EVENT);
        index.created(101, 1, n("vanished"), Source.EVENT);
        long before = index.changes().lastSeq();
        CgroupIndex.Reconciled r = index.reconcile(List.of(
                new CgroupIndex.Discovered(100, 1, n("stays")),
                new CgroupIndex.Discovered(102, 1, n("appeared"))), Source.RESYNC, true);
        assertEquals(new CgroupIndex.Reconciled(1, 1), r);
        assertEquals(State.DEAD, index.byId(101).orElseThrow().state());
        Cgroup appeared = index.byId(102).orElseThrow();
        assertEquals(Source.RESYNC, appeared.source());
        assertNull(appeared.createdAt(), "existed before we saw it");
        List<IndexChange> changes = index.changes().after(before, 10);
        assertEquals(2, changes.size());
        assertEquals(State.LIVE, index.byId(1).orElseThrow().state(), "the root is never removed");
    }

    @Test
    void listingFiltersByPrefixAndStateSortedByPath() {
        index.created(200, 1, n("b.slice"), Source.EVENT);
        index.created(201, 200, n("z.service"), Source.EVENT);
        index.created(202, 200, n("a.service"), Source.EVENT);
        index.created(203, 1, n("b.slicex"), Source.EVENT);
        index.deleted(202, 200, n("a.service"), Source.EVENT);
        CgroupIndex.Listing all = index.list("b.slice", CgroupIndex.StateFilter.ALL, 100);
        assertEquals(List.of("b.slice", "b.slice/a.service", "b.slice/z.service"),
                all.cgroups().stream().map(Cgroup::path).toList());
        assertFalse(all.truncated());
        assertEquals(List.of("b.slice/a.service"),
                index.list("/b.slice/", CgroupIndex.StateFilter.DEAD, 100).cgroups().stream().map(Cgroup::path).toList());
        CgroupIndex.Listing two = index.list("", CgroupIndex.StateFilter.LIVE, 2);
        assertEquals(2, two.cgroups().size());
        assertTrue(two.truncated());
        assertEquals("/", two.cgroups().getFirst().path());
    }

    @Test
    void changeLogReportsReadersThatFellBehind() {
        long first = index.changes().lastSeq();
        for (int i = 0; i < CgroupIndex.HISTORY + 10; i++) {
            index.created(1000 + i, 1, n("c" + i), Source.EVENT);
        }
        assertNull(index.changes().after(first, 10), "the oldest changes left the history");
        long last = index.changes().lastSeq();
        List<IndexChange> tail = index.changes().after(last - 3, 10);
        assertEquals(3, tail.size());
        assertEquals(last, tail.getLast().seq());
        assertEquals("c" + (CgroupIndex.HISTORY + 9), tail.getLast().cgroup().path());
    }

    @Test
    void subscribersAreSignalledOncePerFlush() {
        List<String> calls = new ArrayList<>();
        index.changes().subscribe(() -> calls.add("wake"));
        index.created(300, 1, n("x"), Source.EVENT);
        index.created(301, 1, n("y"), Source.EVENT);
        index.flush();
        index.flush();
        assertEquals(List.of("wake"), calls);
    }

    @Test
    void lookupAsksTheResolverAndTheWriterAddsWhatItFound() {
        index.setResolver(id -> id == 400
                ? List.of(new CgroupIndex.Discovered(399, 1, n("new.slice")), new CgroupIndex.Discovered(400, 399, n("raced")))
                : List.of());
        assertEquals("new.slice/raced", index.lookup(400).orElseThrow().path());
        assertEquals(Source.LOOKUP, index.lookup(400).orElseThrow().source());
        assertTrue(index.lookup(401).isEmpty());
        index.flush();
        assertEquals(Source.LOOKUP, index.byId(400).orElseThrow().source(), "added by the writer");
        assertEquals("new.slice/raced", index.pathOf(400), "with its ancestors");
    }

    @Test
    void rawPathBytesSurviveNamesThatAreNotUtf8() {
        byte[] odd = {'x', (byte) 0xff};
        index.created(500, 1, odd, Source.EVENT);
        index.created(501, 500, n("y"), Source.EVENT);
        assertEquals("x\\xff/y", index.pathOf(501));
        assertEquals(new String(new byte[] {'x', (byte) 0xff, '/', 'y'}, StandardCharsets.ISO_8859_1),
                new String(index.pathBytes(501), StandardCharsets.ISO_8859_1));
        assertEquals(List.of(501L), index.byPath("x\\xff/y").stream().map(Cgroup::id).toList());
    }
}
