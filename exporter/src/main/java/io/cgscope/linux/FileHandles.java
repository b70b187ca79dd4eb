package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * kernfs file handles: {@code name_to_handle_at} turns a cgroup path into its id (the kernfs
 * node id, 8 bytes, {@code handle_type} FILEID_KERNFS), {@code open_by_handle_at} turns an id back
 * into an open directory. Scratch memory is allocated once: one instance per thread.
 */
public final class FileHandles {
    /** {@code MAX_HANDLE_SZ} from {@code <fcntl.h>}. */
    private static final int MAX_HANDLE_SZ = 128;
    /** {@code FILEID_KERNFS} from {@code <linux/exportfs.h>}. */
    public static final int FILEID_KERNFS = 0xfe;

    /**
     * No id: kernfs node ids start at 1. The one "no id" value of the project's kernel side: a
     * lookup of a cgroup that is gone (ENOENT, ESTALE: a race, not an error), an event without
     * that id, a CREATE whose child's id was not found.
     */
    public static final long NO_ID = 0;

    /** "" for AT_EMPTY_PATH (never written). */
    private static final MemorySegment EMPTY_PATH = Arena.global().allocate(1);

    private final MemorySegment handle;
    private final MemorySegment mountId;
    private final CPath path;

    public FileHandles(Arena arena) {
        // struct file_handle { unsigned int handle_bytes; int handle_type; unsigned char f_handle[]; }
        this.handle = arena.allocate(8 + MAX_HANDLE_SZ, 8);
        this.mountId = arena.allocate(ValueLayout.JAVA_INT);
        this.path = new CPath(arena);
    }

    /**
     * The kernfs id of {@code relativePath} below the directory {@code dirfd}.
     *
     * @param relativePath path bytes without NUL; empty or {@code "."} for the directory itself
     * @return the id, or {@link #NO_ID} when the path does not exist (any more)
     */
    public long kernfsId(int dirfd, byte[] relativePath) throws SyscallException {
        return kernfsId(dirfd, relativePath, null);
    }

    /**
     * The kernfs id of {@code parentPath/name} below {@code dirfd} (just {@code name} when
     * {@code parentPath} is empty), built in native memory without a Java array for the joined path.
     *
     * @param name null for {@code parentPath} itself
     * @return the id, or {@link #NO_ID} when the path does not exist (any more)
     */
    public long kernfsId(int dirfd, byte[] parentPath, byte[] name) throws SyscallException {
        if (!CPath.fits(parentPath, name)) {
            throw new SyscallException("name_to_handle_at(path of " + CPath.length(parentPath, name) + " bytes)",
                    Errno.EINVAL);
        }
        handle.set(ValueLayout.JAVA_INT, 0, MAX_HANDLE_SZ);
        int rc = Libc.nameToHandleAt(dirfd, path.of(parentPath, name), handle, mountId, 0);
        if (rc < 0) {
            int errno = -rc;
            if (errno == Errno.ENOENT || errno == Errno.ESTALE || errno == Errno.ENOTDIR) {
                return NO_ID;
            }
            throw new SyscallException("name_to_handle_at(" + path + ")", errno);
        }
        return kernfsIdOf(handle);
    }

    /** The id of an open directory. */
    public long kernfsId(Fd dir) throws SyscallException {
        handle.set(ValueLayout.JAVA_INT, 0, MAX_HANDLE_SZ);
        int rc = Libc.nameToHandleAt(dir.get(), EMPTY_PATH, handle, mountId, 0x1000 /* AT_EMPTY_PATH */);
        if (rc < 0) {
            throw new SyscallException("name_to_handle_at(" + dir + ", AT_EMPTY_PATH)", -rc);
        }
        return kernfsIdOf(handle);
    }

    private static long kernfsIdOf(MemorySegment handle) throws SyscallException {
        int bytes = handle.get(ValueLayout.JAVA_INT, 0);
        int type = handle.get(ValueLayout.JAVA_INT, 4);
        if (bytes != 8 || type != FILEID_KERNFS) {
            // not kernfs: the caller pointed us at something that is not cgroupfs
            throw new SyscallException("name_to_handle_at: handle type " + type + " of " + bytes
                    + " bytes is not a kernfs id", Errno.EOPNOTSUPP);
        }
        return handle.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
    }

    /**
     * Opens the directory with kernfs id {@code id} on the file system of {@code mountFd}
     * ({@code open_by_handle_at}; needs CAP_DAC_READ_SEARCH).
     *
     * @return the fd, or null when the cgroup is gone (ESTALE, ENOENT)
     */
    public Fd openById(Fd mountFd, long id) throws SyscallException {
        handle.set(ValueLayout.JAVA_INT, 0, 8);
        handle.set(ValueLayout.JAVA_INT, 4, FILEID_KERNFS);
        handle.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, id);
        int fd = Libc.openByHandleAt(mountFd.get(), handle,
                Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd < 0) {
            int errno = -fd;
            if (errno == Errno.ESTALE || errno == Errno.ENOENT || errno == Errno.ENOTDIR) {
                return null; // gone, or the id of a file rather than a cgroup directory
            }
            throw new SyscallException("open_by_handle_at(" + Long.toUnsignedString(id) + ")", errno);
        }
        return new Fd(fd, "cgroup " + Long.toUnsignedString(id));
    }
}
