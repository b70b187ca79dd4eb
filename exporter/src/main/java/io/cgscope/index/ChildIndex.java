package io.cgscope.index;

import java.util.Arrays;
import java.util.List;

/**
 * The index for lookups by path: (parent id, name) -> the entries with that name in that parent
 * (a path removed and created again has several). A hash of (parent id, name), the chain key,
 * leads to the live entry with it; the retained dead ones are found through {@link DeadCgroups},
 * which keeps them by the same key. Entries of different names that share a key share it;
 * readers filter by equality.
 *
 * <p>Why the dead are kept apart: a dead cgroup leaves the path index when it is evicted, up to
 * 250,000 deaths later, and its slot in a hash table keyed by a hash of (parent, name) is by then
 * long out of the cache: one or two cold misses per eviction, the largest cost of the reader's
 * {@code evict} under churn (perf). Here it leaves when it dies, usually soon after its slot was
 * last touched, and {@link DeadCgroups} drops the dead's index a generation at a time.
 *
 * <p>Live cgroups of one (parent, name) are one at a time, but for a moment there can be two (a
 * re-sync finds the new one before the old one's death is applied), and different names can share
 * a key: then the key leads to an array of entries, replaced whole on each change.
 *
 * <p>One writer ({@link #add}, {@link #remove}); readers ({@link #ids}) never lock and see the
 * index as it was a moment ago: a key's value is replaced whole, never changed in place.
 */
final class ChildIndex {
    /** Chain key -> the live {@link Entry} with it, or an {@code Entry[]} when several share it. */
    private final LongMap<Object> heads = new LongMap<>();
    private final LongMap<Entry> entries;
    private final DeadCgroups dead;

    /**
     * @param entries the index's id -> entry map, which holds every entry listed here
     * @param dead    the retained dead, with their chain keys
     */
    ChildIndex(LongMap<Entry> entries, DeadCgroups dead) {
        this.entries = entries;
        this.dead = dead;
    }

    /** The chain key of (parent, name): a hash, never 0 (LongMap's empty key). */
    static long key(long parentId, byte[] name) {
        long h = parentId * 0x9E3779B97F4A7C15L ^ Arrays.hashCode(name) * 0xC2B2AE3D27D4EB4FL;
        return h == 0 ? 1 : h;
    }

    /** Writer: adds a live entry. */
    void add(Entry e) {
        long k = key(e.parentId(), e.name());
        Object head = heads.get(k);
        if (head == null) {
            heads.put(k, e);
        } else if (head instanceof Entry one) {
            heads.put(k, new Entry[] {one, e});
        } else {
            Entry[] several = (Entry[]) head;
            Entry[] more = Arrays.copyOf(several, several.length + 1);
            more[several.length] = e;
            heads.put(k, more);
        }
    }

    /** Writer: removes a live entry added before, with its chain key (it died). */
    void remove(long key, Entry e) {
        Object head = heads.get(key);
        if (head == e) {
            heads.remove(key);
        } else if (head instanceof Entry[] several) {
            int at = Arrays.asList(several).indexOf(e);
            if (at < 0) {
                return;
            }
            Entry[] fewer = new Entry[several.length - 1];
            System.arraycopy(several, 0, fewer, 0, at);
            System.arraycopy(several, at + 1, fewer, at, fewer.length - at);
            heads.put(key, fewer.length == 1 ? fewer[0] : fewer);
        }
    }

    /**
     * Reader: adds the ids of the entries named {@code name} in {@code parentId}, live and
     * retained, to {@code out}, each once.
     */
    void ids(long parentId, byte[] name, List<Long> out) {
        long k = key(parentId, name);
        int before = out.size();
        Object head = heads.get(k);
        if (head instanceof Entry e) {
            addIfNamed(e, parentId, name, out);
        } else if (head instanceof Entry[] several) {
            for (Entry e : several) {
                addIfNamed(e, parentId, name, out);
            }
        }
        int live = out.size();
        dead.ids(k, id -> {
            Entry e = entries.get(id); // null once evicted (its generation may linger)
            if (e != null && !out.subList(before, live).contains(id)) { // one that died while we read was seen live
                addIfNamed(e, parentId, name, out);
            }
        });
    }

    private static void addIfNamed(Entry e, long parentId, byte[] name, List<Long> out) {
        if (e.parentId() == parentId && Arrays.equals(e.name(), name)) {
            out.add(e.id());
        }
    }
}
