package io.cgscope.fanotify;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.index.IndexHealth;
import io.cgscope.linux.Fd;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;

/**
 * The id of a created child, looked up by name ({@code name_to_handle_at}) when no listing of its
 * parent answered: in the parent's directory when a listing left it open (one path component to
 * walk), else by the parent's path from the root, else in the parent opened by id
 * ({@code open_by_handle_at}: a parent whose path is not known yet). Each lookup of a name just
 * created or removed waits for the parent's inode lock (exporter/KERNEL.md), which is why
 * {@link BatchListings} answers bursts first. Writer thread only.
 */
final class ChildLookup {
    private final CgroupFs fs;
    private final ParentPaths paths;
    private final ParentDirs dirs;
    private final IndexHealth health;
    private final FileHandles handles;

    ChildLookup(CgroupFs fs, ParentPaths paths, ParentDirs dirs, IndexHealth health, Arena arena) {
        this.fs = fs;
        this.paths = paths;
        this.dirs = dirs;
        this.health = health;
        this.handles = new FileHandles(arena);
    }

    /**
     * The id of {@code name} in {@code parentId}, or {@link FileHandles#NO_ID} when it is gone (its
     * DELETE will bring the id) or cannot be had without privileges the process dropped (counted as
     * a lookup failure; the DELETE or a re-sync fills the gap).
     *
     * @throws SyscallException a failure other than a race: the caller re-syncs
     */
    long childId(long parentId, byte[] name) throws SyscallException {
        health.count(IndexHealth.Counter.CHILD_IDS_LOOKED_UP);
        Fd dir = dirs.cached(parentId);
        if (dir != null) {
            return handles.kernfsId(dir.get(), name);
        }
        byte[] parentPath = paths.of(parentId);
        if (parentPath != null) {
            return handles.kernfsId(fs.rootFd().get(), parentPath, name);
        }
        Fd parent = dirs.openById(parentId);
        if (parent == null) {
            if (dirs.byHandleRefused()) {
                health.count(IndexHealth.Counter.LOOKUP_FAILURES);
            }
            return FileHandles.NO_ID;
        }
        try {
            return handles.kernfsId(parent.get(), name);
        } finally {
            parent.closeQuietly();
        }
    }
}
