package io.cgscope.index;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChildIndexTest {
    private final LongMap<Entry> entries = new LongMap<>();
    private final DeadCgroups dead = new DeadCgroups();
    private final ChildIndex index = new ChildIndex(entries, dead);

    private Entry live(long id, long parent, String name) {
        Entry e = Entry.created(id, parent, name.getBytes(StandardCharsets.UTF_8), Source.EVENT, Entry.NO_TIME);
        entries.put(id, e); // as the index does: the id map first
        index.add(e);
        return e;
    }

    /** As the index does when a cgroup dies: out of the live index, into the dead's. */
    private void die(Entry e) {
        long key = ChildIndex.key(e.parentId(), e.name());
        e.die(1, Source.EVENT);
        index.remove(key, e);
        dead.add(e.id(), 0, 1, key);
    }

    /** As the index's eviction does: the oldest death leaves the id map. */
    private void evictOldest() {
        entries.remove(dead.oldestId());
        dead.removeOldest();
    }

    private List<Long> ids(long parent, String name) {
        List<Long> out = new ArrayList<>();
        index.ids(parent, name.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }

    @Test
    void aNameMadeAgainListsTheLiveOneAndEveryRetainedDeadOneUntilEvicted() {
        for (int i = 0; i < 5; i++) {
            Entry e = live(10 + i, 1, "app.service");
            if (i < 4) {
                die(e);
            }
        }
        live(99, 2, "app.service"); // same name, other parent
        live(98, 1, "other.service");
        assertEquals(List.of(14L, 13L, 12L, 11L, 10L), ids(1, "app.service"), "live first, then the dead newest first");
        evictOldest();
        evictOldest();
        assertEquals(List.of(14L, 13L, 12L), ids(1, "app.service"));
        assertEquals(List.of(99L), ids(2, "app.service"));
        assertEquals(List.of(98L), ids(1, "other.service"));
        evictOldest();
        evictOldest();
        assertEquals(List.of(14L), ids(1, "app.service"));
        assertEquals(0, dead.size());
    }

    @Test
    void twoLiveOfOneNameForAMomentAndEitherMayDieFirst() {
        // A re-sync finds the new cgroup before the old one's death is applied.
        Entry old = live(1, 1, "x");
        Entry fresh = live(2, 1, "x");
        Entry third = live(3, 1, "x");
        assertEquals(List.of(1L, 2L, 3L), ids(1, "x"));
        die(fresh);
        assertEquals(List.of(1L, 3L, 2L), ids(1, "x"), "live ones, then the dead");
        die(old);
        die(third);
        assertEquals(List.of(3L, 1L, 2L), ids(1, "x"), "the dead, newest death first");
    }

    @Test
    void namesThatShareAChainKeyAreToldApart() {
        // "Aa" and "BB" have the same Arrays.hashCode, so in one parent they share a chain key.
        assertEquals(ChildIndex.key(1, "Aa".getBytes(StandardCharsets.UTF_8)),
                ChildIndex.key(1, "BB".getBytes(StandardCharsets.UTF_8)));
        Entry aa = live(1, 1, "Aa");
        live(2, 1, "BB");
        Entry aa2 = live(3, 1, "Aa");
        assertEquals(List.of(1L, 3L), ids(1, "Aa"));
        assertEquals(List.of(2L), ids(1, "BB"));
        die(aa);
        assertEquals(List.of(3L, 1L), ids(1, "Aa"));
        assertEquals(List.of(2L), ids(1, "BB"));
        die(aa2);
        evictOldest();
        assertEquals(List.of(3L), ids(1, "Aa"));
        assertEquals(List.of(2L), ids(1, "BB"));
    }

    @Test
    void removingAnEntryThatIsNotThereChangesNothing() {
        Entry a = live(1, 1, "Aa");
        live(2, 1, "BB");
        Entry stranger = Entry.created(3, 1, "Aa".getBytes(StandardCharsets.UTF_8), Source.EVENT, Entry.NO_TIME);
        index.remove(ChildIndex.key(1, a.name()), stranger);
        assertEquals(List.of(1L), ids(1, "Aa"));
        assertEquals(List.of(2L), ids(1, "BB"));
    }
}
