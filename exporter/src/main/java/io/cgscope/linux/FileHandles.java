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
    private static final int PATH_MAX = 4096;

    /** The id could not be had because the file is gone (ENOENT, ESTALE): a race, not an error. */
    public static final long GONE = -1;

    private final MemorySegment handle;
    private final MemorySegment mountId;
    private final MemorySegment path;

    public FileHandles(Arena arena) {
        // struct file_handle { unsigned int handle_bytes; int handle_type; unsigned char f_handle[]; }
        this.handle = arena.allocate(8 + MAX_HANDLE_SZ, 8);
        this.mountId = arena.allocate(ValueLayout.JAVA_INT);
        this.path = arena.allocate(PATH_MAX + 1);
    }

    /**
     * The kernfs id of {@code relativePath} below the directory {@code dirfd}.
     *
     * @param relativePath path bytes without NUL, {@code "."} for the directory itself
     * @return the id, or {@link #GONE} when the path does not exist (any more)
     */
    public long kernfsId(int dirfd, byte[] relativePath) throws SyscallException {
        if (relativePath.length > PATH_MAX) {
            throw new SyscallException("name_to_handle_at(path of " + relativePath.length + " bytes)", Errno.EINVAL);
        }
        MemorySegment.copy(relativePath, 0, path, ValueLayout.JAVA_BYTE, 0, relativePath.length);
        path.set(ValueLayout.JAVA_BYTE, relativePath.length, (byte) 0);
        return kernfsIdOfPath(dirfd, relativePath.length);
    }

    /** name_to_handle_at on the NUL-terminated path of {@code length} bytes already in {@link #path}. */
    private long kernfsIdOfPath(int dirfd, int length) throws SyscallException {
        handle.set(ValueLayout.JAVA_INT, 0, MAX_HANDLE_SZ);
        int rc = Libc.nameToHandleAt(dirfd, path, handle, mountId, 0);
        if (rc < 0) {
            int errno = -rc;
            if (errno == Errno.ENOENT || errno == Errno.ESTALE || errno == Errno.ENOTDIR) {
                return GONE;
            }
            throw new SyscallException("name_to_handle_at(" + new String(path.asSlice(0, length)
                    .toArray(ValueLayout.JAVA_BYTE), java.nio.charset.StandardCharsets.UTF_8) + ")", errno);
        }
        return kernfsIdOf(handle);
    }

    /**
     * The kernfs id of {@code parentPath/name} below {@code dirfd} (just {@code name} when
     * {@code parentPath} is empty), built in native memory without a Java array for the joined path.
     *
     * @return the id, or {@link #GONE} when the path does not exist (any more)
     */
    public long kernfsId(int dirfd, byte[] parentPath, byte[] name) throws SyscallException {
        if (parentPath.length == 0) {
            return kernfsId(dirfd, name);
        }
        int length = parentPath.length + 1 + name.length;
        if (length > PATH_MAX) {
            throw new SyscallException("name_to_handle_at(path of " + length + " bytes)", Errno.EINVAL);
        }
        MemorySegment.copy(parentPath, 0, path, ValueLayout.JAVA_BYTE, 0, parentPath.length);
        path.set(ValueLayout.JAVA_BYTE, parentPath.length, (byte) '/');
        MemorySegment.copy(name, 0, path, ValueLayout.JAVA_BYTE, parentPath.length + 1, name.length);
        path.set(ValueLayout.JAVA_BYTE, length, (byte) 0);
        return kernfsIdOfPath(dirfd, length);
    }

    /** The id of an open directory. */
    public long kernfsId(Fd dir) throws SyscallException {
        handle.set(ValueLayout.JAVA_INT, 0, MAX_HANDLE_SZ);
        path.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
        int rc = Libc.nameToHandleAt(dir.get(), path, handle, mountId, 0x1000 /* AT_EMPTY_PATH */);
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
