package io.cgscope.index;

/**
 * One cgroup as stored: immutable, replaced whole on a change so readers never see half of one.
 * Kept small (the index aims at well under 300 bytes of heap per cgroup): the name is the raw
 * bytes of the directory name, paths are derived from the parent links when asked for; state and
 * source are kept as one byte each rather than as enum references (16 bytes less per entry
 * without compressed oops, as with ZGC: 56 instead of 72 bytes).
 */
final class Entry {
    static final long UNKNOWN = -1;
    private static final State[] STATES = State.values();
    private static final Source[] SOURCES = Source.values();

    private final long id;
    private final long parentId;
    /** epoch millis, or -1 when unknown */
    private final long createdMillis;
    /** epoch millis, or -1 while live */
    private final long deletedMillis;
    private final byte[] name;
    private final byte state;
    private final byte source;

    Entry(long id, long parentId, byte[] name, State state, long createdMillis, long deletedMillis, Source source) {
        this.id = id;
        this.parentId = parentId;
        this.name = name;
        this.state = (byte) state.ordinal();
        this.createdMillis = createdMillis;
        this.deletedMillis = deletedMillis;
        this.source = (byte) source.ordinal();
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

    long deletedMillis() {
        return deletedMillis;
    }

    Source source() {
        return SOURCES[source];
    }

    Entry dead(long atMillis) {
        return new Entry(id, parentId, name, State.DEAD, createdMillis, atMillis, source());
    }

    Entry withState(State s) {
        return new Entry(id, parentId, name, s, createdMillis, s == State.LIVE ? UNKNOWN : deletedMillis, source());
    }

    boolean isLive() {
        return state == 0; // State.LIVE.ordinal()
    }

    @Override
    public String toString() {
        return "Entry[id=" + Long.toUnsignedString(id) + ", parentId=" + Long.toUnsignedString(parentId) + ", state="
                + state() + ", source=" + source() + "]";
    }
}
