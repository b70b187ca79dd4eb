package io.cgscope.index;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * CREATEs whose child was already gone when asked for its id: (parent id, name) -> when the
 * CREATE was seen, until the DELETE that brings the id (with the same parent and name) tells
 * the index when that cgroup was created. Writer thread only.
 */
final class PendingCreates {
    /** (parent id, raw name) with content equality: no decoding to a String per DELETE. */
    private record Key(long parentId, byte[] name, int hash) {
        Key(long parentId, byte[] name) {
            this(parentId, name, 31 * Long.hashCode(parentId) + Arrays.hashCode(name));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.parentId == parentId && Arrays.equals(k.name, name);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final Map<Key, Long> seen = new HashMap<>();

    void add(long parentId, byte[] name, long atMillis) {
        seen.putIfAbsent(new Key(parentId, name), atMillis);
    }

    /** When the CREATE of (parent, name) was seen, or null; forgets it. */
    Long take(long parentId, byte[] name) {
        return seen.isEmpty() ? null : seen.remove(new Key(parentId, name));
    }

    boolean isEmpty() {
        return seen.isEmpty();
    }

    int size() {
        return seen.size();
    }

    /** Forgets those seen before {@code cutoffMillis}; returns how many. */
    int expire(long cutoffMillis) {
        int before = seen.size();
        seen.values().removeIf(t -> t < cutoffMillis);
        return before - seen.size();
    }

    /** Forgets all; returns how many. */
    int clear() {
        int n = seen.size();
        seen.clear();
        return n;
    }
}
