package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The keeper's protocol with hand-made sources and a hand-made tree: order, failure, hand-over. */
class IndexKeeperTest {
    /** A tree that is a map id -> (parent, name); every walk is logged. */
    private static final class Tree implements CgroupTree {
        final Map<Long, Object[]> cgroups = new LinkedHashMap<>();
        final List<String> log;

        Tree(List<String> log) {
            this.log = log;
        }

        void add(long id, long parent, String name) {
            cgroups.put(id, new Object[] {parent, name});
        }

        @Override
        public long rootId() {
            return 1;
        }

        @Override
        public int walk(Visitor visitor) {
            log.add("sweep");
            cgroups.forEach((id, pn) -> visitor.cgroup(id, (long) pn[0], ((String) pn[1]).getBytes(StandardCharsets.UTF_8)));
            return cgroups.size();
        }
    }

    /** A source that logs each step, applies queued creates in catchUp, and fails where told. */
    private static final class Fake implements IndexSource {
        final IndexHealth.Mode mode;
        final List<String> log;
        final IndexKeeper keeper;
        final List<Object[]> queued = new ArrayList<>();
        IOException attachFails;
        boolean closed;

        Fake(IndexHealth.Mode mode, IndexKeeper keeper, List<String> log) {
            this.mode = mode;
            this.keeper = keeper;
            this.log = log;
        }

        @Override
        public IndexHealth.Mode mode() {
            return mode;
        }

        @Override
        public void attach() throws IOException {
            log.add(mode.label() + " attach");
            if (attachFails != null) {
                throw attachFails;
            }
        }

        @Override
        public void catchUp() {
            log.add(mode.label() + " catch up");
            for (Object[] c : queued) {
                keeper.index().created((long) c[0], (long) c[1], ((String) c[2]).getBytes(StandardCharsets.UTF_8),
                        Source.EVENT);
            }
        }

        @Override
        public void follow() {
            log.add(mode.label() + " follow");
        }

        @Override
        public void close() {
            log.add(mode.label() + " close");
            closed = true;
        }
    }

    private final List<String> log = new ArrayList<>();
    private final Tree tree = new Tree(log);
    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
    private final IndexKeeper keeper = new IndexKeeper(index, tree);

    @Test
    void startsWithoutARaceInOneOrder() throws Exception {
        tree.add(10, 1, "before.slice");
        Fake source = new Fake(IndexHealth.Mode.FANOTIFY, keeper, log);
        source.queued.add(new Object[] {11L, 10L, "meanwhile.service"}); // made after the mark, before the sweep ended
        assertEquals("starting", index.health().status().mode().label());
        keeper.start(source);
        assertEquals(List.of("fanotify attach", "sweep", "fanotify catch up", "fanotify follow"), log);
        assertEquals("before.slice/meanwhile.service", index.pathOf(11));
        assertEquals(new IndexHealth.Status(IndexHealth.Mode.FANOTIFY, null, null), index.health().status());
        assertSame(source, keeper.current());
    }

    @Test
    void aRefusedSourceIsClosedAndTheNextCanStart() throws Exception {
        Fake refused = new Fake(IndexHealth.Mode.FANOTIFY, keeper, log);
        refused.attachFails = new IOException("fanotify_init: EPERM");
        assertThrows(IOException.class, () -> keeper.start(refused));
        assertTrue(refused.closed);
        assertNull(keeper.current());
        assertEquals("starting", index.health().status().notFollowing(), "not following until a source starts");
        keeper.start(new Fake(IndexHealth.Mode.SWEEP, keeper, log));
        assertEquals(IndexHealth.Mode.SWEEP, index.health().status().mode());
        assertTrue(index.health().status().following());
    }

    @Test
    void aSourceThatGivesUpHandsTheIndexToTheFallback() throws Exception {
        Fake first = new Fake(IndexHealth.Mode.FANOTIFY, keeper, log);
        Fake[] fallback = new Fake[1];
        keeper.onGiveUp(reason -> fallback[0] = new Fake(IndexHealth.Mode.SWEEP, keeper, log));
        keeper.start(first);
        tree.add(20, 1, "found.by.the.fallback");
        log.clear();
        keeper.giveUp(first, "fd lost and a new mark was refused");
        assertEquals(List.of("sweep attach", "sweep", "sweep catch up", "sweep follow"), log,
                "the fallback starts like any source, on the caller's thread");
        assertSame(fallback[0], keeper.current());
        assertEquals(new IndexHealth.Status(IndexHealth.Mode.SWEEP, "fd lost and a new mark was refused", null),
                index.health().status());
        assertEquals("found.by.the.fallback", index.pathOf(20));
        keeper.giveUp(first, "again"); // a stale give-up changes nothing
        assertSame(fallback[0], keeper.current());
    }

    @Test
    void aFailingFallbackLeavesTheIndexNotFollowingAndSaysWhy() throws Exception {
        Fake first = new Fake(IndexHealth.Mode.FANOTIFY, keeper, log);
        keeper.onGiveUp(reason -> {
            Fake f = new Fake(IndexHealth.Mode.SWEEP, keeper, log);
            f.attachFails = new IOException("openat: EACCES");
            return f;
        });
        keeper.start(first);
        keeper.giveUp(first, "fd lost");
        assertEquals("fd lost; the sweep fallback failed: openat: EACCES", index.health().status().notFollowing());
        assertEquals("fd lost", index.health().status().degraded());
    }

    @Test
    void resyncsAndReaderFailuresAreCounted() throws Exception {
        keeper.start(new Fake(IndexHealth.Mode.FANOTIFY, keeper, log));
        tree.add(30, 1, "lost.service");
        keeper.readerFailed("reader failed: EIO; retrying");
        assertEquals("reader failed: EIO; retrying", index.health().status().notFollowing());
        IndexKeeper.Swept s = keeper.resync();
        keeper.readerRecovered();
        assertEquals(new IndexKeeper.Swept(1, s.nanos(), 1, 0), s);
        assertTrue(index.health().status().following());
        assertEquals(1, index.health().get(IndexHealth.Counter.READER_RESTARTS));
        assertEquals(1, index.health().get(IndexHealth.Counter.RESYNCS));
        assertEquals(Source.RESYNC, index.byId(30).orElseThrow().source());
        keeper.close();
        assertEquals("stopped", index.health().status().notFollowing());
        assertNull(keeper.current());
    }
}
