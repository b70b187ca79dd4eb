package io.cgscope.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The bounded history of index changes, for subscribers such as the {@code /events} stream.
 * The single writer appends; readers read from any sequence number without locks and learn when
 * they fell behind the history. A subscriber is only ever signalled, never waited for: a slow
 * one loses history (and is told so), it cannot stall the index.
 */
public final class ChangeLog {
    private static final IndexChange.Type[] TYPES = IndexChange.Type.values();
    private static final Source[] SOURCES = Source.values();
    private static final VarHandle LAST_SEQ;

    static {
        try {
            LAST_SEQ = MethodHandles.lookup().findVarHandle(ChangeLog.class, "lastSeq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /*
     * The history as parallel arrays, not one IndexChange object per change: under churn the ring
     * held 65,536 objects that each survived a young collection and were copied before they died.
     * A slot is guarded like a seqlock: the writer marks it (-seq), writes the fields, then
     * publishes seq; a reader reads the fields between two reads of seqs[slot] and keeps them only
     * when both say the sequence number it wanted.
     */
    private final AtomicLongArray seqs;
    private final Entry[] entries;
    private final long[] times;
    private final byte[] types;
    private final byte[] sources;
    /** The kill of an OOM_KILL change, null for the others (few: allocated once, like the other arrays). */
    private final OomKill[] kills;
    private final int capacity;
    private final CgroupPaths paths;
    private volatile long lastSeq;
    private long signalledSeq;
    private final List<Runnable> subscribers = new CopyOnWriteArrayList<>();

    ChangeLog(int capacity, CgroupPaths paths) {
        this.capacity = capacity;
        this.paths = paths;
        this.seqs = new AtomicLongArray(capacity);
        this.entries = new Entry[capacity];
        this.times = new long[capacity];
        this.types = new byte[capacity];
        this.sources = new byte[capacity];
        this.kills = new OomKill[capacity];
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

    /** Appends the next change (writer). */
    void append(IndexChange.Type type, long timeMillis, Entry entry, Source source) {
        append(type, timeMillis, entry, source, null);
    }

    /** Appends the next change, with the kill of an OOM_KILL (writer). */
    void append(IndexChange.Type type, long timeMillis, Entry entry, Source source, OomKill kill) {
        long seq = lastSeq + 1;
        int slot = (int) (seq % capacity);
        // The marker must be seen before any of the new fields (readers of the old change in this
        // slot then notice it is going): a store-store fence orders it, without the full fence of a
        // volatile write (there were two per change, on the reader thread's path).
        seqs.setOpaque(slot, -seq);
        VarHandle.storeStoreFence();
        entries[slot] = entry;
        times[slot] = timeMillis;
        types[slot] = (byte) type.ordinal();
        sources[slot] = (byte) source.ordinal();
        kills[slot] = kill;
        seqs.setRelease(slot, seq);
        LAST_SEQ.setRelease(this, seq); // readers read lastSeq before the slots: release suffices
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
            int slot = (int) (s % capacity);
            if (seqs.getAcquire(slot) != s) {
                return null; // overwritten before we read it: we fell behind
            }
            Entry entry = entries[slot];
            long time = times[slot];
            byte type = types[slot];
            byte source = sources[slot];
            OomKill kill = kills[slot];
            VarHandle.loadLoadFence();
            if (seqs.get(slot) != s) {
                return null; // overwritten while we read it
            }
            out[(int) (s - afterSeq - 1)] = new IndexChange(s, TYPES[type], time, entry, SOURCES[source], paths, kill);
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
