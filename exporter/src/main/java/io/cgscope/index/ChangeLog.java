package io.cgscope.index;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The bounded history of index changes, for subscribers such as the {@code /events} stream.
 * The single writer appends; readers read from any sequence number without locks and learn when
 * they fell behind the history. A subscriber is only ever signalled, never waited for: a slow
 * one loses history (and is told so), it cannot stall the index.
 */
public final class ChangeLog {
    private final AtomicReferenceArray<IndexChange> ring;
    private final int capacity;
    private volatile long lastSeq;
    private long signalledSeq;
    private final List<Runnable> subscribers = new CopyOnWriteArrayList<>();

    ChangeLog(int capacity) {
        this.capacity = capacity;
        this.ring = new AtomicReferenceArray<>(capacity);
    }

    /** How many changes the history keeps. */
    public int capacity() {
        return capacity;
    }

    /** The sequence number of the newest change, 0 before the first. */
    public long lastSeq() {
        return lastSeq;
    }

    /** The oldest sequence number still in the history (lastSeq + 1 when empty). */
    public long firstSeq() {
        return Math.max(1, lastSeq - capacity + 1);
    }

    void append(IndexChange change) {
        ring.set((int) (change.seq() % capacity), change);
        lastSeq = change.seq();
    }

    long nextSeq() {
        return lastSeq + 1;
    }

    /**
     * The changes after {@code afterSeq}, at most {@code max}, oldest first, or null when some of
     * them have already left the history (the reader missed changes).
     */
    public List<IndexChange> after(long afterSeq, int max) {
        long last = lastSeq;
        if (afterSeq >= last) {
            return List.of();
        }
        if (afterSeq + 1 < Math.max(1, last - capacity + 1)) {
            return null;
        }
        long end = Math.min(last, afterSeq + max);
        IndexChange[] out = new IndexChange[(int) (end - afterSeq)];
        for (long s = afterSeq + 1; s <= end; s++) {
            IndexChange c = ring.get((int) (s % capacity));
            if (c == null || c.seq() != s) {
                return null; // overwritten while we read: we fell behind
            }
            out[(int) (s - afterSeq - 1)] = c;
        }
        return List.of(out);
    }

    /**
     * Registers a wake-up called (on the writer thread) after changes were appended. It must
     * return at once: hand the work to another thread or event loop.
     */
    public AutoCloseable subscribe(Runnable wakeUp) {
        subscribers.add(wakeUp);
        return () -> subscribers.remove(wakeUp);
    }

    /** Wakes the subscribers if anything was appended since the last call. Writer thread only. */
    void signal() {
        long last = lastSeq;
        if (last == signalledSeq) {
            return;
        }
        signalledSeq = last;
        for (Runnable r : subscribers) {
            try {
                r.run();
            } catch (RuntimeException e) {
                // a subscriber's bug must not stop the index
            }
        }
    }
}
