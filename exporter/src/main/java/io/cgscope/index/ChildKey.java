package io.cgscope.index;

import java.util.Arrays;
import java.util.Comparator;

/**
 * A child cgroup as (parent id, name, id), ordered so that all ids of one (parent, name) are
 * adjacent and newest (highest id; kernfs ids only grow) first. The secondary index for lookups
 * by path and listings of children.
 */
record ChildKey(long parentId, byte[] name, long id) {
    static final Comparator<ChildKey> ORDER = (a, b) -> {
        int c = Long.compare(a.parentId, b.parentId);
        if (c != 0) {
            return c;
        }
        c = Arrays.compareUnsigned(a.name, b.name);
        if (c != 0) {
            return c;
        }
        return Long.compareUnsigned(b.id, a.id); // newest first
    };

    /** Sorts before every key of (parentId, name). */
    static ChildKey first(long parentId, byte[] name) {
        return new ChildKey(parentId, name, -1L); // the largest unsigned id sorts first
    }

    /** Sorts after every key of (parentId, name). */
    static ChildKey last(long parentId, byte[] name) {
        return new ChildKey(parentId, name, 0L);
    }
}
