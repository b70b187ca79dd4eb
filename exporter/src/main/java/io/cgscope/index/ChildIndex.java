package io.cgscope.index;

import java.util.Arrays;
import java.util.List;

/**
 * The secondary index for lookups by path: (parent id, name) -> the entries with that name in
 * that parent (a path removed and created again has several). A hash of (parent id, name) leads
 * to a chain of entries, newest added first, doubly linked through the entries themselves, so
 * adding and removing are O(1) and allocate nothing (the heads are in a {@link LongMap}): a
 * sorted set of keys cost the reader ~18 byte-array comparisons per insert at 250k cgroups, and
 * two objects per cgroup. Entries of different names that share a hash share a chain; readers
 * filter by equality.
 *
 * <p>One writer ({@link #add}, {@link #remove}); readers ({@link #ids}) walk a chain through the
 * volatile {@code older} links without locks. A reader standing on an entry that is being removed
 * still finds the rest of the chain: a removed entry's {@code older} link is left as it was.
 */
final class ChildIndex {
    private final LongMap<Entry> heads = new LongMap<>();

    /** The chain's key: a hash of (parent id, name), never 0 (LongMap's empty key). */
    static long key(long parentId, byte[] name) {
        long h = parentId * 0x9E3779B97F4A7C15L ^ Arrays.hashCode(name) * 0xC2B2AE3D27D4EB4FL;
        return h == 0 ? 1 : h;
    }

    /** Writer: adds an entry as the newest of its (parent, name). */
    void add(Entry e) {
        long k = key(e.parentId(), e.name());
        Entry head = heads.get(k);
        e.older = head;
        if (head != null) {
            head.newer = e;
        }
        heads.put(k, e);
    }

    /** Writer: removes an entry added before. */
    void remove(Entry e) {
        Entry older = e.older;
        Entry newer = e.newer;
        if (newer != null) {
            newer.older = older;
        } else {
            long k = key(e.parentId(), e.name());
            if (older != null) {
                heads.put(k, older);
            } else {
                heads.remove(k);
            }
        }
        if (older != null) {
            older.newer = newer;
        }
        e.newer = null;
    }

    /** Reader: adds the ids of the entries named {@code name} in {@code parentId} to {@code out}. */
    void ids(long parentId, byte[] name, List<Long> out) {
        for (Entry e = heads.get(key(parentId, name)); e != null; e = e.older) {
            if (e.parentId() == parentId && Arrays.equals(e.name(), name)) {
                out.add(e.id());
            }
        }
    }
}
