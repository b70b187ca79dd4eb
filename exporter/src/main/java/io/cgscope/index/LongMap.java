package io.cgscope.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * A hash map from non-zero {@code long} keys to objects for ONE writer and any number of readers
 * that never lock: open addressing with linear probing over a {@code long[]} of keys and an
 * {@code Object[]} of values. It replaces {@code ConcurrentHashMap<Long, V>} where the index
 * keeps one entry per cgroup: no node and no boxed key per entry (two objects fewer per cgroup
 * for the collector to trace or copy, 24-32 bytes of heap instead of about 56) and no boxing on
 * the reader's hot path.
 *
 * <p>How readers stay safe without locks: a slot's key, once written, never changes in a table
 * (a removal leaves the key with a tombstone value, which a later put of the same key may
 * replace); the writer publishes a new slot's value before its key (release), readers read the key
 * (acquire) before the value. Growing or dropping tombstones builds a new table and publishes it
 * through a volatile field; a reader still on the old table sees the map as it was a moment ago.
 */
final class LongMap<V> {
    private static final Object TOMBSTONE = new Object();
    private static final VarHandle KEYS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle VALUES = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final int MIN_CAPACITY = 64;

    /** The most low bits of a key that place it within a run of neighbouring slots ({@link Table#slot}). */
    private static final int MAX_RUN_BITS = 12;

    private static final class Table {
        final long[] keys;
        final Object[] values;
        final int mask;
        /** Keys equal but for their low {@code runBits} bits share a run of slots ({@link #slot}). */
        final int runBits;

        Table(int capacity) {
            keys = new long[capacity];
            values = new Object[capacity];
            mask = capacity - 1;
            runBits = Math.min(MAX_RUN_BITS, Integer.numberOfTrailingZeros(capacity) - 2);
        }

        /**
         * Where a key's probe starts: its low {@code runBits} bits as they are, added to a hash of
         * the rest. Cgroup ids are inode numbers handed out in rising order, so the cgroups of a
         * burst are near each other: the next new id's slot is next to the last one's, already in
         * the cache, and the oldest deaths, evicted in order, are neighbours too. A plain hash
         * scattered each of these over the whole table, one cold cache and TLB miss per insert,
         * probe and eviction (the reader's largest cost under churn, perf). Ids of one run never
         * collide with each other (a run is at most a quarter of the table); runs land at random.
         * Made for keys that are sparse within a run (consecutive cgroups' ids are a dozen or more
         * apart, 19 on the test machine: each cgroup's core files take inode numbers too) or random
         * (hashes): densely consecutive keys would fill whole runs, and overlapping full runs make
         * long probes.
         */
        int slot(long key) {
            long h = (key >>> runBits) * 0x9E3779B97F4A7C15L;
            return ((int) (h ^ (h >>> 32)) + (int) key) & mask;
        }
    }

    private volatile Table table = new Table(MIN_CAPACITY);
    private volatile int size;
    /** Slots with a key, live or tombstone (writer). */
    private int used;

    /** Reader: the value of {@code key}, or null. */
    @SuppressWarnings("unchecked")
    V get(long key) {
        Table t = table;
        for (int i = t.slot(key); ; i = (i + 1) & t.mask) {
            long k = (long) KEYS.getAcquire(t.keys, i);
            if (k == 0) {
                return null;
            }
            if (k == key) {
                Object v = VALUES.getAcquire(t.values, i);
                return v == TOMBSTONE ? null : (V) v;
            }
        }
    }

    /** Reader: live entries. */
    int size() {
        return size;
    }

    /** Writer: sets the value of {@code key} (non-zero, value non-null); returns the previous one or null. */
    @SuppressWarnings("unchecked")
    V put(long key, V value) {
        if (key == 0 || value == null) {
            throw new IllegalArgumentException("LongMap keys are non-zero and values non-null");
        }
        Table t = table;
        int i = t.slot(key);
        for (; ; i = (i + 1) & t.mask) {
            long k = t.keys[i];
            if (k == 0) {
                break;
            }
            if (k == key) {
                Object old = t.values[i];
                VALUES.setRelease(t.values, i, value);
                if (old == TOMBSTONE) {
                    size++;
                    return null;
                }
                return (V) old;
            }
        }
        VALUES.setRelease(t.values, i, value);
        KEYS.setRelease(t.keys, i, key);
        size++;
        if (++used > t.mask / 10 * 7) { // load 0.7, tombstones included
            rebuild();
        }
        return null;
    }

    /** Writer: removes {@code key}; returns its value or null. */
    @SuppressWarnings("unchecked")
    V remove(long key) {
        Table t = table;
        for (int i = t.slot(key); ; i = (i + 1) & t.mask) {
            long k = t.keys[i];
            if (k == 0) {
                return null;
            }
            if (k == key) {
                Object old = t.values[i];
                if (old == TOMBSTONE) {
                    return null;
                }
                VALUES.setRelease(t.values, i, TOMBSTONE);
                size--;
                return (V) old;
            }
        }
    }

    /** Reader: every live value, in no order (a reader racing the writer may or may not see its latest change). */
    @SuppressWarnings("unchecked")
    void forEach(Consumer<? super V> action) {
        Table t = table;
        for (int i = 0; i <= t.mask; i++) {
            Object v = VALUES.getAcquire(t.values, i);
            if (v != null && v != TOMBSTONE) {
                action.accept((V) v);
            }
        }
    }

    /**
     * A table with the live entries only, at most a quarter full, published whole. Under churn every
     * removal leaves a tombstone and a full table is rebuilt: from a quarter to 70 % that is 45 % of
     * the capacity in inserts between rebuilds, against 20 % from half full, so the rebuilds' new
     * arrays (40 % of the reader's allocation under churn d, JFR) come 2.25 times less often, and
     * probes for ids not in the map (every DELETE of an unseen id) run through a sparser table.
     * The price: twice the slots (12 bytes each), so 24-48 bytes of heap per entry instead of 17-24.
     */
    private void rebuild() {
        Table old = table;
        int capacity = MIN_CAPACITY;
        while (capacity / 4 < size) {
            capacity *= 2;
        }
        Table t = new Table(capacity);
        int n = 0;
        for (int i = 0; i <= old.mask; i++) {
            Object v = old.values[i];
            if (v != null && v != TOMBSTONE) {
                int j = t.slot(old.keys[i]);
                while (t.keys[j] != 0) {
                    j = (j + 1) & t.mask;
                }
                t.keys[j] = old.keys[i];
                t.values[j] = v;
                n++;
            }
        }
        used = n;
        table = t; // volatile: the new table is seen whole
    }
}
