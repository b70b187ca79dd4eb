package io.cgscope.index;

import java.time.Instant;

/**
 * One cgroup as stored. Identity, parent, name and creation time never change; a death changes
 * state, deletion time and source once, in place: state and source share one volatile byte
 * ({@code status}), {@code deletedMillis} is written before it and read only after it said dead
 * ({@link #view}), so a reader sees the entry either live or wholly dead, never half.
 * Dying in place saves an entry and a map update per DELETE, the most frequent event under churn.
 *
 * <p>Kept small (the index aims at well under 300 bytes of heap per cgroup): the name is the raw
 * bytes of the directory name, paths are derived from the parent links when asked for; state and
 * source are one byte each rather than enum references.
 */
final class Entry {
    /** No time: when a cgroup was made is unknown (it existed before cgscope saw it), or it is not dead. */
    static final long NO_TIME = -1;
    private static final State[] STATES = State.values();
    private static final Source[] SOURCES = Source.values();
    private static final int STATE_SHIFT = 4; // status = state << 4 | source

    private final long id;
    private final long parentId;
    /** epoch millis, or {@link #NO_TIME} */
    private final long createdMillis;
    private final byte[] name;
    /** epoch millis, or {@link #NO_TIME} while live; written before {@link #status} says dead */
    private long deletedMillis;
    /** state and how the index learned of the cgroup (or, once dead, of its death), in one read */
    private volatile byte status;

    private Entry(long id, long parentId, byte[] name, long createdMillis, Source source) {
        this.id = id;
        this.parentId = parentId;
        this.name = name;
        this.createdMillis = createdMillis;
        this.deletedMillis = NO_TIME;
        this.status = status(State.LIVE, source);
    }

    /** A live cgroup found as it was (a sweep, a lookup, a re-sync, the root): when it was made is unknown. */
    static Entry found(long id, long parentId, byte[] name, Source source) {
        return new Entry(id, parentId, name, NO_TIME, source);
    }

    /** A live cgroup whose creation was seen at {@code atMillis} ({@link #NO_TIME}: seen, but when is unknown). */
    static Entry created(long id, long parentId, byte[] name, Source source, long atMillis) {
        return new Entry(id, parentId, name, atMillis, source);
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

    /** What readers see of the entry now, with its path ({@code null} while an ancestor is unknown). */
    Cgroup view(String path) {
        byte status = this.status; // one volatile read: state and source together, and it publishes the time
        State state = stateOf(status);
        return view(path, state, state == State.LIVE ? NO_TIME : deletedMillis, sourceOf(status));
    }

    /** The entry as a change saw it: its state, deletion time and source then, not now. */
    Cgroup view(String path, State state, long deletedMillis, Source source) {
        return new Cgroup(id, path, parentId, state,
                createdMillis == NO_TIME ? null : Instant.ofEpochMilli(createdMillis),
                deletedMillis == NO_TIME ? null : Instant.ofEpochMilli(deletedMillis), source);
    }

    @Override
    public String toString() {
        return "Entry[id=" + Long.toUnsignedString(id) + ", parentId=" + Long.toUnsignedString(parentId) + ", state="
                + state() + ", source=" + source() + "]";
    }
}
