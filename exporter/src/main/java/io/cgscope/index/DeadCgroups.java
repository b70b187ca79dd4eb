package io.cgscope.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.function.LongConsumer;

/**
 * The retained dead cgroups in the order they died, in generations, each with its own index by
 * (parent, name) chain key ({@link ChildIndex#key}): what eviction and lookups by path need of
 * the dead, kept so that evicting never touches anything written when the cgroup was made.
 *
 * <p>Why: deaths arrive in time order and the retention is one fixed length, so the oldest death
 * is always the next to expire, and the oldest is also what a full retention budget gives up
 * first. Eviction thus walks the oldest generation's arrays in order, and a generation whose
 * deaths were all evicted is dropped whole. Before, each eviction removed the cgroup from the
 * path index, a hash table keyed by a hash of (parent, name), at a slot last touched when the
 * cgroup was made, up to 250,000 deaths ago: a cold cache miss or two per eviction, most of the
 * reader's time in {@code evict} under churn (perf). Now a cgroup leaves the live path index when
 * it dies (its slot is usually still warm, from its CREATE or its last lookup) and joins the
 * newest generation here, whose arrays are in the cache.
 *
 * <p>Each death keeps its id and when it died (a ticker reading, for the retention; epoch millis,
 * for the expiry listeners), and is linked into a hash chain by its chain key: 32 bytes per
 * retained cgroup (three longs, a link, a slot of the hash table; measured with
 * {@code IndexBench heap N dead}: 33 bytes of heap more per dead cgroup than per live one). The
 * key itself is not kept: a reader checks each id it is given against its entry's parent and
 * name anyway. Generations grow from 64 deaths to {@value #MAX_GENERATION}, so a quiet node keeps
 * a few small ones.
 *
 * <p>One writer (the index's); readers ({@link #ids}) never lock: a generation's arrays never move,
 * a death is published by a release write of its hash slot, and the list of generations is
 * replaced whole when it changes.
 */
final class DeadCgroups {
    static final int MIN_GENERATION = 64;
    static final int MAX_GENERATION = 8192;

    /** Writer: oldest first. */
    private final ArrayDeque<Generation> generations = new ArrayDeque<>();
    /** Readers: the same generations, replaced whole when one is added or dropped. */
    private volatile Generation[] published = new Generation[0];
    private Generation newest;
    /** Deaths evicted from the oldest generation. */
    private int evictedOfOldest;
    private int size;

    /** Writer: a death, after all the others. */
    void add(long id, long tick, long atMillis, long chainKey) {
        if (newest == null || newest.isFull()) {
            int capacity = newest == null ? MIN_GENERATION : Math.min(MAX_GENERATION, newest.capacity() * 2);
            newest = new Generation(capacity);
            generations.addLast(newest);
            publish();
        }
        newest.add(id, tick, atMillis, chainKey);
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Deaths not yet evicted. */
    int size() {
        return size;
    }

    long oldestId() {
        return generations.getFirst().ids[evictedOfOldest];
    }

    long oldestTick() {
        return generations.getFirst().ticks[evictedOfOldest];
    }

    long oldestMillis() {
        return generations.getFirst().millis[evictedOfOldest];
    }

    /** Writer: the oldest death was evicted; a generation with none left is dropped. */
    void removeOldest() {
        Generation oldest = generations.getFirst();
        size--;
        if (++evictedOfOldest == oldest.size) {
            generations.removeFirst();
            evictedOfOldest = 0;
            if (oldest == newest) {
                newest = null; // the next death starts a small generation again
            }
            publish();
        }
    }

    /**
     * Reader: the ids of retained deaths with this chain key, among others that share its hash
     * slot, and evicted ones (a generation is dropped after its last death was evicted): the
     * caller checks each id's entry.
     */
    void ids(long chainKey, LongConsumer out) {
        for (Generation g : published) {
            g.ids(chainKey, out);
        }
    }

    private void publish() {
        published = generations.toArray(new Generation[0]); // volatile: the list is seen whole
    }

    /** Up to {@code capacity} deaths in arrays that never move, with a chained hash index by chain key. */
    static final class Generation {
        private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

        final long[] ids;
        final long[] ticks;
        final long[] millis;
        /** The previous death with the same hash slot, as index + 1 (0: none). */
        private final int[] previous;
        /** Hash slot of a chain key -> its newest death, as index + 1 (0: none). */
        private final int[] slots;
        /** Deaths written (writer; readers reach a death only through its hash slot). */
        private int size;

        Generation(int capacity) {
            ids = new long[capacity];
            ticks = new long[capacity];
            millis = new long[capacity];
            previous = new int[capacity];
            slots = new int[capacity];
        }

        int capacity() {
            return ids.length;
        }

        boolean isFull() {
            return size == ids.length;
        }

        void add(long id, long tick, long atMillis, long chainKey) {
            int i = size;
            ids[i] = id;
            ticks[i] = tick;
            millis[i] = atMillis;
            int s = slot(chainKey);
            previous[i] = slots[s];
            INTS.setRelease(slots, s, i + 1); // after the death's fields: a reader that sees it sees them
            size = i + 1;
        }

        void ids(long chainKey, LongConsumer out) {
            for (int i = (int) INTS.getAcquire(slots, slot(chainKey)); i != 0; i = previous[i - 1]) {
                out.accept(ids[i - 1]);
            }
        }

        private int slot(long chainKey) {
            return (int) (chainKey ^ (chainKey >>> 32)) & (slots.length - 1);
        }
    }
}
