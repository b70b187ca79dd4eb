package io.cgscope.index;

/**
 * One cgroup as stored. Identity, parent, name and creation time never change; a death changes
 * state, deletion time and source once, in place: state and source share one volatile byte
 * ({@code status}), {@code deletedMillis} is written before it and read only after it said dead
 * ({@link CgroupIndex#view}), so a reader sees the entry either live or wholly dead, never half.
 * Dying in place saves an entry and a map update per DELETE, the most frequent event under churn.
 *
 * <p>Kept small (the index aims at well under 300 bytes of heap per cgroup): the name is the raw
 * bytes of the directory name, paths are derived from the parent links when asked for; state and
 * source are one byte each rather than enum references.
 */
final class Entry {
    static final long UNKNOWN = -1;
    private static final State[] STATES = State.values();
    private static final Source[] SOURCES = Source.values();
    private static final int STATE_SHIFT = 4; // status = state << 4 | source

    private final long id;
    private final long parentId;
    /** epoch millis, or -1 when unknown */
    private final long createdMillis;
    private final byte[] name;
    /** epoch millis, or -1 while live; written before {@link #status} says dead */
    private long deletedMillis;
    /** state and how the index learned of the cgroup (or, once dead, of its death), in one read */
    private volatile byte status;

    Entry(long id, long parentId, byte[] name, State state, long createdMillis, long deletedMillis, Source source) {
        this.id = id;
        this.parentId = parentId;
        this.name = name;
        this.createdMillis = createdMillis;
        this.deletedMillis = deletedMillis;
        this.status = status(state, source);
    }

    private static byte status(State state, Source source) {
        return (byte) (state.ordinal() << STATE_SHIFT | source.ordinal());
    }

    /** One consistent read of state and source (a death may happen between two separate reads). */
    byte status() {
        return status;
    }

    static State stateOf(byte status) {
        return STATES[status >>> STATE_SHIFT];
    }

    static Source sourceOf(byte status) {
        return SOURCES[status & ((1 << STATE_SHIFT) - 1)];
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
        return stateOf(status);
    }

    long createdMillis() {
        return createdMillis;
    }

    /** Meaningful only after a read of {@link #status()} that said dead (it publishes this). */
    long deletedMillis() {
        return deletedMillis;
    }

    Source source() {
        return sourceOf(status);
    }

    /** Marks the entry dead (writer): the time and how the death was learned, then the state. */
    void die(long atMillis, Source learnedFrom) {
        deletedMillis = atMillis;
        status = status(State.DEAD, learnedFrom); // volatile write: publishes the time
    }

    boolean isLive() {
        return status >>> STATE_SHIFT == 0; // State.LIVE.ordinal()
    }

    @Override
    public String toString() {
        return "Entry[id=" + Long.toUnsignedString(id) + ", parentId=" + Long.toUnsignedString(parentId) + ", state="
                + state() + ", source=" + source() + "]";
    }
}
