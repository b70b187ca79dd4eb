package io.cgscope.index;

import java.time.Instant;

/**
 * One create or delete the index applied, in the order applied. {@code seq} increases by one per
 * change, from 1. The entry itself may have changed since (it dies in place): the change keeps
 * what it said, a create shows the cgroup live, a delete dead at the change's time.
 */
public final class IndexChange {
    public enum Type {
        CREATE, DELETE,
        /** Not a change of the tree: an OOM kill ({@link #oomKill()}), sequenced with the changes for {@code /events}. */
        OOM_KILL;

        /** The {@code event:} of {@code /events}: {@code create}, {@code delete}, {@code oom_kill}. */
        public String label() {
            return switch (this) {
                case CREATE -> "create";
                case DELETE -> "delete";
                case OOM_KILL -> "oom_kill";
            };
        }
    }

    private final long seq;
    private final Type type;
    private final long timeMillis;
    private final Entry entry;
    private final Source source;
    private final CgroupPaths paths;
    private final OomKill oomKill;

    IndexChange(long seq, Type type, long timeMillis, Entry entry, Source source, CgroupPaths paths, OomKill oomKill) {
        this.seq = seq;
        this.type = type;
        this.timeMillis = timeMillis;
        this.entry = entry;
        this.source = source;
        this.paths = paths;
        this.oomKill = oomKill;
    }

    /** The kill of an {@link Type#OOM_KILL}; null for the other types. */
    public OomKill oomKill() {
        return oomKill;
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
        return entry == null ? "" : CgroupNames.decode(entry.name()); // an OOM kill of a cgroup the index lacks
    }

    /** The length in bytes of the cgroup's own name: a filter that costs no decoding. */
    public int nameLength() {
        return entry == null ? 0 : entry.name().length;
    }

    /**
     * The cgroup as it was at the change; its path is resolved now (an ancestor may have been
     * learned since). Null for an {@link Type#OOM_KILL} (its {@link #oomKill()} names the cgroups).
     */
    public Cgroup cgroup() {
        if (type == Type.OOM_KILL) {
            return null;
        }
        String path = paths.of(entry);
        return type == Type.CREATE
                ? entry.view(path, State.LIVE, Entry.NO_TIME, source)
                : entry.view(path, State.DEAD, timeMillis, source);
    }
}
