package io.cgscope.index;

/**
 * A retained cgroup whose retention ends, as expiry listeners hear of it: still in the index
 * during the call. One object is reused for every expiry and the path is built only when asked
 * for (under churn the writer evicts one cgroup per DELETE; most listeners need the path only for
 * ids they counted): valid only inside the listener's call.
 */
public final class ExpiredCgroup {
    private final CgroupPaths paths;
    private long id;
    private long deletedMillis;

    ExpiredCgroup(CgroupPaths paths) {
        this.paths = paths;
    }

    /** From {@link DeadCgroups}, not the entry: the entry died long ago and is out of the cache. */
    void set(long id, long deletedMillis) {
        this.id = id;
        this.deletedMillis = deletedMillis;
    }

    public long id() {
        return id;
    }

    /** When it was removed, by the index's clock ({@link CgroupIndex#nowMillis()}). */
    public long deletedMillis() {
        return deletedMillis;
    }

    /** Its path, or null when an ancestor is unknown. */
    public String path() {
        return paths.of(id);
    }
}
