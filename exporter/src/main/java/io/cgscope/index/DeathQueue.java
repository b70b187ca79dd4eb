package io.cgscope.index;

/**
 * The dead cgroups in the order they died, with when (a ticker reading): deaths arrive in time
 * order and the retention is one fixed length, so the oldest death is always the next to expire,
 * and the oldest is also what a full retention budget gives up first. A growable ring of two
 * primitive arrays (16 bytes per dead cgroup); writer thread only.
 */
final class DeathQueue {
    private long[] ids = new long[1024];
    private long[] ticks = new long[1024];
    private int head;
    private int size;

    void add(long id, long tick) {
        if (size == ids.length) {
            grow();
        }
        int tail = (head + size) % ids.length;
        ids[tail] = id;
        ticks[tail] = tick;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    long oldestId() {
        return ids[head];
    }

    long oldestTick() {
        return ticks[head];
    }

    void removeOldest() {
        head = (head + 1) % ids.length;
        size--;
        if (size == 0) {
            head = 0;
        }
    }

    void clear() {
        head = 0;
        size = 0;
    }

    private void grow() {
        long[] newIds = new long[ids.length * 2];
        long[] newTicks = new long[ids.length * 2];
        for (int i = 0; i < size; i++) {
            newIds[i] = ids[(head + i) % ids.length];
            newTicks[i] = ticks[(head + i) % ids.length];
        }
        ids = newIds;
        ticks = newTicks;
        head = 0;
    }
}
