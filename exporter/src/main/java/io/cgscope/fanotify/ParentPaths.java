package io.cgscope.fanotify;

import io.cgscope.index.CgroupIndex;

/**
 * Recent parents' paths (bytes relative to the root, as the file system spells them), direct-mapped
 * by id, in front of {@link CgroupIndex#pathBytes}: most CREATEs share a parent, and walking its
 * chain of ancestors allocates. Safe to keep: ids are never reused and a cgroup2 directory cannot
 * be renamed, so the path of an id, once known, never changes; only hits are kept (an unknown
 * ancestor may become known later). 1024 slots (64 KB or so): nested churn
 * ({@code x.slice/y.slice/unit.service}, thousands of parents) missed a 64-slot cache most of the
 * time. Writer thread only.
 */
final class ParentPaths {
    private static final int SLOTS = 1024;

    private final CgroupIndex index;
    private final long[] ids = new long[SLOTS];
    private final byte[][] paths = new byte[SLOTS][];

    ParentPaths(CgroupIndex index) {
        this.index = index;
    }

    /** The path of {@code id}, or null while it or an ancestor is not known. */
    byte[] of(long id) {
        int slot = (int) (id ^ (id >>> 32)) & (SLOTS - 1);
        if (ids[slot] == id && paths[slot] != null) {
            return paths[slot];
        }
        byte[] path = index.pathBytes(id);
        if (path != null) {
            ids[slot] = id;
            paths[slot] = path;
        }
        return path;
    }
}
