package io.cgscope.index;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The cgroups as stored, for one writer and any number of readers that never lock. Each entry is
 * stored once, under its id ({@link LongMap}); the live ones are also found by (parent, name)
 * ({@link ChildIndex}), the dead ones by their deaths, oldest first, which have their own index by
 * (parent, name) ({@link DeadCgroups}). Four writer methods change it: {@link #root},
 * {@link #insert}, {@link #die} (and {@link #insertDead} for a cgroup first seen dead), and
 * {@link #evictOldestDeath}; everything else reads.
 *
 * <p>Why readers are safe: the maps publish each change whole (their own comments say how); an
 * entry's one change, its death, is one volatile write ({@link Entry}); a dying cgroup joins the
 * dead's index before it leaves the live one, so a reader in between finds it twice (and lists it
 * once), never not at all.
 */
final class CgroupStore {
    private final LongMap<Entry> entries = new LongMap<>();
    private final DeadCgroups deaths = new DeadCgroups();
    private final ChildIndex children = new ChildIndex(entries, deaths);
    /** Live entries, kept as a counter: scrapes read it often. */
    private final AtomicLong live = new AtomicLong();
    private volatile long rootId = 1;

    // ---------------------------------------------------------------- readers

    /** The entry with this id, live or retained, or null. */
    Entry get(long id) {
        return entries.get(id);
    }

    /** Every entry, live and retained, in no order. */
    void forEach(Consumer<Entry> action) {
        entries.forEach(action);
    }

    /** Live and retained entries. */
    long size() {
        return entries.size();
    }

    long liveCount() {
        return live.get();
    }

    long deadCount() {
        return Math.max(0, entries.size() - live.get());
    }

    long rootId() {
        return rootId;
    }

    /** Adds the ids of the entries named {@code name} in {@code parentId}, live and retained, to {@code out}, each once. */
    void idsNamed(long parentId, byte[] name, List<Long> out) {
        children.ids(parentId, name, out);
    }

    // ---------------------------------------------------------------- writer

    /** The root cgroup: its id, and its entry if it has none yet. */
    void root(long id) {
        rootId = id;
        if (entries.get(id) == null) {
            insert(Entry.found(id, 0, new byte[0], Source.SWEEP));
        }
    }

    /** Stores a live entry for an id not stored yet. */
    void insert(Entry e) {
        entries.put(e.id(), e);
        live.incrementAndGet();
        if (e.parentId() != 0 || e.id() != rootId) {
            children.add(e); // the dead's path index is DeadCgroups, from die()
        }
    }

    /** A stored live entry died: it becomes dead in place and moves from the live path index to the dead's. */
    void die(Entry e, long atMillis, long tick, Source learnedFrom) {
        e.die(atMillis, learnedFrom);
        live.decrementAndGet();
        long chainKey = ChildIndex.key(e.parentId(), e.name());
        deaths.add(e.id(), tick, atMillis, chainKey); // the dead's index first: readers find it twice, never not at all
        children.remove(chainKey, e);
    }

    /** Stores an entry for an id first seen dead (its DELETE came before anything else of it). */
    void insertDead(Entry e, long atMillis, long tick, Source learnedFrom) {
        e.die(atMillis, learnedFrom);
        entries.put(e.id(), e);
        deaths.add(e.id(), tick, atMillis, ChildIndex.key(e.parentId(), e.name()));
    }

    // ---------------------------------------------------------------- the dead, oldest death first

    /** Deaths retained. */
    int retained() {
        return deaths.size();
    }

    /** The oldest retained death's ticker reading; only while {@link #retained()} > 0. */
    long oldestDeathTick() {
        return deaths.oldestTick();
    }

    long oldestDeathId() {
        return deaths.oldestId();
    }

    /** When the oldest retained cgroup died, by the index's clock. */
    long oldestDeathMillis() {
        return deaths.oldestMillis();
    }

    /**
     * Gives up the oldest death: the entry leaves the store (its slot in the id map is all that is
     * touched; the dead's path index goes a generation at a time). A queued death is always of a
     * dead entry still stored: a dead entry never lives again (ids are never reused, a known id is
     * left as it is), and an entry dies once.
     *
     * @return whether the entry was still stored
     */
    boolean evictOldestDeath() {
        long id = deaths.oldestId();
        deaths.removeOldest();
        return entries.remove(id) != null;
    }
}
