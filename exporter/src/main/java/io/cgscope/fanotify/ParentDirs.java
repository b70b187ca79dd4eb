package io.cgscope.fanotify;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.linux.CPath;
import io.cgscope.linux.Errno;
import io.cgscope.linux.Fd;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.Libc;
import io.cgscope.linux.SyscallException;

import java.lang.foreign.Arena;

/**
 * Parents' directories, opened by path (or by id when the path is not known yet), and the few
 * kept open for listings: a small cache direct-mapped by id ({@value #SLOTS} slots), each slot
 * remembering how many entries its directory's last listing saw. A parent's directory is closed
 * when the parent is deleted. Writer thread only.
 */
final class ParentDirs {
    private static final int SLOTS = 16;

    /** One open directory and what its last listing saw. */
    private static final class Slot {
        long id;
        Fd fd;
        /** Entries of the last listing; -1 unknown, {@code Integer.MAX_VALUE} when it was cut short. */
        int entries = -1;
        /** Batches since a listing was last skipped as too big (see {@link #toList}). */
        int skips;
    }

    private final CgroupFs fs;
    private final ParentPaths paths;
    private final FileHandles handles;
    private final CPath dirPath;
    private final Slot[] slots = new Slot[SLOTS];
    /** open_by_handle_at refused (no CAP_DAC_READ_SEARCH, e.g. after the privilege drop): not asked again. */
    private boolean byHandleRefused;

    ParentDirs(CgroupFs fs, ParentPaths paths, Arena arena) {
        this.fs = fs;
        this.paths = paths;
        this.handles = new FileHandles(arena);
        this.dirPath = new CPath(arena);
        for (int s = 0; s < SLOTS; s++) {
            slots[s] = new Slot();
        }
    }

    /** The parent's directory if it is open (a listing left it so), else null. */
    Fd cached(long parentId) {
        Slot s = slot(parentId);
        return s.id == parentId ? s.fd : null;
    }

    /**
     * The parent's directory for a listing of {@code creates} names, opened and kept if need be;
     * null when a listing does not pay (its last listing had more than {@code maxEntries} entries,
     * and the {@code retryAfter}th batch since has not come) or it cannot be opened (gone, not allowed).
     */
    Fd toList(long parentId, int maxEntries, int retryAfter) {
        Slot s = slot(parentId);
        if (s.id == parentId && s.fd != null) {
            if (s.entries > maxEntries) {
                if (++s.skips < retryAfter) {
                    return null; // too big to list for this many names: look them up
                }
                s.skips = 0;
            }
            return s.fd;
        }
        close(s);
        Fd dir = open(parentId);
        if (dir == null) {
            return null;
        }
        s.id = parentId;
        s.fd = dir;
        s.entries = -1;
        s.skips = 0;
        return dir;
    }

    /** What the parent's last listing saw: its entries, or {@code Integer.MAX_VALUE} when cut short. */
    void listed(long parentId, int entries) {
        Slot s = slot(parentId);
        if (s.id == parentId) {
            s.entries = entries;
        }
    }

    /** A listing failed: close the directory (lookups answer instead). */
    void failed(long parentId) {
        Slot s = slot(parentId);
        if (s.id == parentId) {
            close(s);
        }
    }

    /** The parent was deleted: close its directory, if open. */
    void forget(long parentId) {
        failed(parentId);
    }

    void close() {
        for (Slot s : slots) {
            close(s);
        }
    }

    /**
     * Opens a parent by id ({@code open_by_handle_at}, needs CAP_DAC_READ_SEARCH), for one lookup.
     *
     * @return the directory (the caller closes it), or null when the parent is gone or the kernel
     *     refuses handles (then {@link #byHandleRefused()}, and it is not asked again)
     * @throws SyscallException any other failure
     */
    Fd openById(long parentId) throws SyscallException {
        if (byHandleRefused) {
            return null;
        }
        try {
            return handles.openById(fs.rootFd(), parentId);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                byHandleRefused = true; // documented degradation: the re-sync or the DELETE fills the gap
                return null;
            }
            throw e;
        }
    }

    /** Whether the kernel refused {@code open_by_handle_at}. */
    boolean byHandleRefused() {
        return byHandleRefused;
    }

    /**
     * A cgroup's directory opened for reading: by its path when known, else by its id (a parent
     * whose own CREATE is in the same batch); null when it is gone or cannot be opened.
     */
    private Fd open(long id) {
        byte[] path = paths.of(id);
        if (path != null && CPath.fits(path, null)) {
            int fd = Libc.openat(fs.rootFd().get(), dirPath.of(path), Libc.O_RDONLY | Libc.O_DIRECTORY
                    | Libc.O_CLOEXEC | Libc.O_NOFOLLOW);
            return fd < 0 ? null : new Fd(fd, "cgroup " + Long.toUnsignedString(id));
        }
        try {
            return openById(id);
        } catch (SyscallException e) {
            return null;
        }
    }

    private Slot slot(long id) {
        long h = id * 0x9E3779B97F4A7C15L;
        return slots[(int) (h ^ (h >>> 32)) & (SLOTS - 1)];
    }

    private static void close(Slot s) {
        if (s.fd != null) {
            s.fd.closeQuietly();
            s.fd = null;
        }
        s.id = 0;
    }
}
