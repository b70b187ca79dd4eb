package io.cgscope.index;

import java.time.Instant;

/**
 * One create or delete the index applied, in the order applied. {@code seq} increases by one per
 * change, from 1. The entry itself may have changed since (it dies in place): the change keeps
 * what it said, a create shows the cgroup live, a delete dead at the change's time.
 */
public final class IndexChange {
    public enum Type {
        CREATE, DELETE;

        public String label() {
            return this == CREATE ? "create" : "delete";
        }
    }

    private final long seq;
    private final Type type;
    private final long timeMillis;
    private final Entry entry;
    private final Source source;
    private final CgroupPaths paths;

    IndexChange(long seq, Type type, long timeMillis, Entry entry, Source source, CgroupPaths paths) {
        this.seq = seq;
        this.type = type;
        this.timeMillis = timeMillis;
        this.entry = entry;
        this.source = source;
        this.paths = paths;
    }

    public long seq() {
        return seq;
    }

    public Type type() {
        return type;
    }

    public Instant time() {
        return Instant.ofEpochMilli(timeMillis);
    }

    /**
     * The cgroup's own name (the last segment of its path), as shown: without building the path,
     * for subscribers that only look at names (the workload package's bundle tracker).
     */
    public String name() {
        return CgroupNames.decode(entry.name());
    }

    /** The length in bytes of the cgroup's own name: a filter that costs no decoding. */
    public int nameLength() {
        return entry.name().length;
    }

    /** The cgroup as it was at the change; its path is resolved now (an ancestor may have been learned since). */
    public Cgroup cgroup() {
        String path = paths.of(entry);
        return type == Type.CREATE
                ? entry.view(path, State.LIVE, Entry.NO_TIME, source)
                : entry.view(path, State.DEAD, timeMillis, source);
    }
}
