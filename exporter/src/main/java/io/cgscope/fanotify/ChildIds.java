package io.cgscope.fanotify;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.linux.CPath;
import io.cgscope.linux.Errno;
import io.cgscope.linux.Fd;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.Libc;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The id of a cgroup a CREATE event names. On cgroupfs a CREATE carries only the parent's id and
 * the child's name (kernfs leaves the new dentry negative, so there is no FID of the child): the
 * id comes from one listing of the parent directory for all of a read batch's CREATEs in it, where
 * that pays ({@link CreateBatch}), else from {@code name_to_handle_at} on the child's name in the
 * parent's directory when a listing left it open, on the child's path otherwise, or, when
 * the parent's path is not known yet, from {@code open_by_handle_at} on the parent plus a lookup of
 * the name in it. Writer thread only.
 */
final class ChildIds {
    private final CgroupFs fs;
    private final CgroupIndex index;
    private final FileHandles handles;
    private final CreateBatch batch;
    private final CPath dirPath;
    /**
     * Recently used parents' path bytes, direct-mapped by id. Safe to keep: ids are never reused and
     * a cgroup2 directory cannot be renamed, so the path of an id, once known, never changes. Saves
     * walking the parent chain (and its allocations) for every CREATE; most CREATEs share a parent.
     * 1024 slots (64 KB or so): nested churn (`x.slice/y.slice/unit.service`, thousands of parents)
     * missed a 64-slot cache most of the time.
     */
    private static final int PATH_CACHE = 1024;
    private final long[] cachedIds = new long[PATH_CACHE];
    private final byte[][] cachedPaths = new byte[PATH_CACHE][];
    /** open_by_handle_at refused (no CAP_DAC_READ_SEARCH, e.g. after the privilege drop). */
    private boolean byHandleRefused;
    long handleFallbacks;

    ChildIds(CgroupFs fs, CgroupIndex index, EventParser parser, Arena arena) {
        this.fs = fs;
        this.index = index;
        this.handles = new FileHandles(arena);
        this.dirPath = new CPath(arena);
        this.batch = new CreateBatch(this::openDirectory, parser, index.health(), arena);
    }

    /** Before a read buffer's events are applied: answers its CREATEs by directory listings where that pays. */
    void prepare(MemorySegment buf, long length) {
        batch.prepare(buf, length);
    }

    /** A cgroup was deleted: if it is a parent whose directory is open, close it. */
    void deleted(long id) {
        batch.forget(id);
    }

    void close() {
        batch.close();
    }

    /**
     * The child's id, or {@link FileHandles#GONE} when it no longer exists (its DELETE will bring the id).
     * Called for each CREATE of the buffer given to {@link #prepare} that needs one, in order.
     */
    long of(long parentId, byte[] name) throws SyscallException {
        long listed = batch.take(parentId, name.length);
        if (listed != CreateBatch.NOT_LISTED) {
            return listed;
        }
        index.health().count(IndexHealth.Counter.CHILD_IDS_LOOKED_UP);
        Fd dir = batch.openDirectory(parentId);
        if (dir != null) {
            return handles.kernfsId(dir.get(), name);
        }
        byte[] parentPath = parentPath(parentId);
        if (parentPath != null) {
            return handles.kernfsId(fs.rootFd().get(), parentPath, name);
        }
        if (byHandleRefused) {
            index.health().count(IndexHealth.Counter.LOOKUP_FAILURES);
            return FileHandles.GONE;
        }
        handleFallbacks++;
        Fd parent;
        try {
            parent = handles.openById(fs.rootFd(), parentId);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                byHandleRefused = true; // documented degradation: the resync or the DELETE fills the gap
                index.health().count(IndexHealth.Counter.LOOKUP_FAILURES);
                return FileHandles.GONE;
            }
            throw e;
        }
        if (parent == null) {
            return FileHandles.GONE;
        }
        try {
            return handles.kernfsId(parent.get(), name);
        } finally {
            parent.closeQuietly();
        }
    }

    /**
     * A cgroup's directory opened for reading (a listing): by its path when the index knows it, else
     * by its id ({@code open_by_handle_at}: a parent whose own CREATE is in the same batch); null
     * when it is gone or cannot be opened (then names are looked up one by one).
     */
    private Fd openDirectory(long id) {
        byte[] path = parentPath(id);
        if (path != null && CPath.fits(path, null)) {
            int fd = Libc.openat(fs.rootFd().get(), dirPath.of(path), Libc.O_RDONLY | Libc.O_DIRECTORY
                    | Libc.O_CLOEXEC | Libc.O_NOFOLLOW);
            return fd < 0 ? null : new Fd(fd, "cgroup " + Long.toUnsignedString(id));
        }
        if (byHandleRefused) {
            return null;
        }
        try {
            return handles.openById(fs.rootFd(), id);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                byHandleRefused = true;
            }
            return null;
        }
    }

    private byte[] parentPath(long parentId) {
        int slot = (int) (parentId ^ (parentId >>> 32)) & (PATH_CACHE - 1);
        if (cachedIds[slot] == parentId && cachedPaths[slot] != null) {
            return cachedPaths[slot];
        }
        byte[] path = index.pathBytes(parentId);
        if (path != null) { // an unknown ancestor may become known later: only hits are kept
            cachedIds[slot] = parentId;
            cachedPaths[slot] = path;
        }
        return path;
    }
}
