package io.cgscope.index;

/**
 * One cgroup as stored: immutable, replaced whole on a change so readers never see half of one.
 * Kept small (the index aims at well under 300 bytes of heap per cgroup): the name is the raw
 * bytes of the directory name, paths are derived from the parent links when asked for.
 *
 * @param createdMillis epoch millis, or -1 when unknown
 * @param deletedMillis epoch millis, or -1 while live
 */
record Entry(long id, long parentId, byte[] name, State state, long createdMillis, long deletedMillis,
             Source source) {
    static final long UNKNOWN = -1;

    Entry dead(long atMillis) {
        return new Entry(id, parentId, name, State.DEAD, createdMillis, atMillis, source);
    }

    Entry withState(State s) {
        return new Entry(id, parentId, name, s, createdMillis, s == State.LIVE ? UNKNOWN : deletedMillis, source);
    }

    boolean isLive() {
        return state == State.LIVE;
    }
}
