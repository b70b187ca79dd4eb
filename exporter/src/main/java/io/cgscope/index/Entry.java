package io.cgscope.index;

/**
 * One cgroup as stored. Identity, parent, name and creation time never change; a death changes
 * state, deletion time and source once, in place: {@code deletedMillis} and {@code source} are
 * written before the volatile {@code state}, and readers read {@code state} first
 * ({@link CgroupIndex#view}), so a reader sees the entry either live or wholly dead, never half.
 * Dying in place saves an entry and a map update per DELETE, the most frequent event under churn.
 *
 * <p>Kept small (the index aims at well under 300 bytes of heap per cgroup): the name is the raw
 * bytes of the directory name, paths are derived from the parent links when asked for; state and
 * source are one byte each rather than enum references. {@code older}/{@code newer} chain the
 * entries of one (parent, name) for {@link ChildIndex}.
 */
final class Entry {
    static final long UNKNOWN = -1;
    private static final State[] STATES = State.values();
    private static final Source[] SOURCES = Source.values();
    private static final byte LIVE = 0; // State.LIVE.ordinal()

    private final long id;
    private final long parentId;
    /** epoch millis, or -1 when unknown */
    private final long createdMillis;
    private final byte[] name;
    /** epoch millis, or -1 while live; written before {@link #state} */
    private long deletedMillis;
    /** how the index learned of the cgroup (or, once dead, of its death); written before {@link #state} */
    private byte source;
    private volatile byte state;

    /** The next older entry with the same (parent, name) hash: readers follow it ({@link ChildIndex}). */
    volatile Entry older;
    /** The next newer one: writer only. */
    Entry newer;

    Entry(long id, long parentId, byte[] name, State state, long createdMillis, long deletedMillis, Source source) {
        this.id = id;
        this.parentId = parentId;
        this.name = name;
        this.createdMillis = createdMillis;
        this.deletedMillis = deletedMillis;
        this.source = (byte) source.ordinal();
        this.state = (byte) state.ordinal();
    }

    long id() {
        return id;
    }

    long parentId() {
        return parentId;
    }

    byte[] name() {
        return name;
    }

    State state() {
        return STATES[state];
    }

    long createdMillis() {
        return createdMillis;
    }

    /** Read after {@link #state()} (or {@link #isLive()}) to see the values that state published. */
    long deletedMillis() {
        return deletedMillis;
    }

    Source source() {
        return SOURCES[source];
    }

    /** Marks the entry dead (writer): the time and how the death was learned, then the state. */
    void die(long atMillis, Source learnedFrom) {
        deletedMillis = atMillis;
        source = (byte) learnedFrom.ordinal();
        state = (byte) State.DEAD.ordinal(); // volatile write: publishes the two above
    }

    boolean isLive() {
        return state == LIVE;
    }

    @Override
    public String toString() {
        return "Entry[id=" + Long.toUnsignedString(id) + ", parentId=" + Long.toUnsignedString(parentId) + ", state="
                + state() + ", source=" + source() + "]";
    }
}
