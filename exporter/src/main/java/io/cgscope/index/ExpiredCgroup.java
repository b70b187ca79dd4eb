package io.cgscope.index;

/**
 * A retained cgroup whose retention ends, as expiry listeners hear of it: still in the index
 * during the call. One object is reused for every expiry and the path is built only when asked
 * for (under churn the writer evicts one cgroup per DELETE; most listeners need the path only for
 * ids they counted): valid only inside the listener's call.
 */
public final class ExpiredCgroup {
    private final CgroupIndex index;
    private Entry entry;

    ExpiredCgroup(CgroupIndex index) {
        this.index = index;
    }

    void set(Entry e) {
        this.entry = e;
    }

    public long id() {
        return entry.id();
    }

    /** When it was removed, by the index's clock ({@link CgroupIndex#nowMillis()}). */
    public long deletedMillis() {
        return entry.deletedMillis(); // the writer's own thread: it wrote it
    }

    /** Its path, or null when an ancestor is unknown. */
    public String path() {
        return index.pathOf(entry.id());
    }
}
