package io.cgscope.bpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One cgroup lifecycle record of {@code lifecycle.bpf.c}: a mkdir or rmdir of the cgroup
 * {@link #id()} in the hierarchy {@link #hierarchy()}. The parser hands out ONE instance, refilled
 * for each record (tens of thousands a second): valid only inside
 * {@link LifecycleRecords.Sink#event}; nothing is allocated unless the sink asks for the name.
 */
public final class LifecycleEvent {
    /** {@code LIFECYCLE_MKDIR}: the cgroup was created. */
    public static final int MKDIR = 1;
    /** {@code LIFECYCLE_RMDIR}: the cgroup was removed. */
    public static final int RMDIR = 2;
    /** The unified hierarchy's id (cgroup2); v1 hierarchies have 1 and up. */
    public static final int UNIFIED = 0;

    private int type;
    private int hierarchy;
    private long id;
    private long parentId;
    private int level;
    private MemorySegment nameSource = MemorySegment.NULL;
    private long nameOffset;
    private int nameLength;

    LifecycleEvent() {
    }

    void set(int type, int hierarchy, long id, long parentId, int level, MemorySegment nameSource, long nameOffset,
             int nameLength) {
        this.type = type;
        this.hierarchy = hierarchy;
        this.id = id;
        this.parentId = parentId;
        this.level = level;
        this.nameSource = nameSource;
        this.nameOffset = nameOffset;
        this.nameLength = nameLength;
    }

    /** A record that stays valid after the sink returns (tests, logs). */
    public LifecycleEvent copy() {
        LifecycleEvent c = new LifecycleEvent();
        byte[] n = name();
        c.set(type, hierarchy, id, parentId, level, MemorySegment.ofArray(n), 0, n.length);
        return c;
    }

    /** {@link #MKDIR} or {@link #RMDIR}. */
    public int type() {
        return type;
    }

    public boolean isMkdir() {
        return type == MKDIR;
    }

    public boolean isRmdir() {
        return type == RMDIR;
    }

    /** {@code cgroup_root.hierarchy_id}: {@link #UNIFIED} for cgroup2. */
    public int hierarchy() {
        return hierarchy;
    }

    /** The cgroup's kernfs node id (unique within its hierarchy). */
    public long id() {
        return id;
    }

    /** The parent cgroup's id; 0 for a hierarchy's root. */
    public long parentId() {
        return parentId;
    }

    /** Depth below the hierarchy's root (1 for its children). */
    public int level() {
        return level;
    }

    /** The directory's name, copied (bytes, as the file system has them). */
    public byte[] name() {
        return nameSource.asSlice(nameOffset, nameLength).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public String toString() {
        return (type == MKDIR ? "mkdir" : type == RMDIR ? "rmdir" : "type " + type) + " hierarchy " + hierarchy
                + " id " + Long.toUnsignedString(id) + " parent " + Long.toUnsignedString(parentId) + " level " + level
                + " name " + new String(name(), java.nio.charset.StandardCharsets.UTF_8);
    }
}
