package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reads small files of one directory at a time, relative to a directory fd: the cgroupfs
 * collectors' way to read a cgroup's accounting files with no path string per file. One
 * directory is open at a time ({@link #openDir}), its files are read whole into a caller's
 * array ({@link #read}), then it is closed ({@link #closeDir}); the raw fds never leave this
 * class. Not thread-safe: one owner thread (its native buffers are allocated once and reused).
 *
 * <p>Errors are results: every call returns a length or an id, or {@code -errno}. ENOENT (a file
 * this cgroup does not have, or the cgroup removed) and ENODEV (a kernfs file whose cgroup was
 * removed after the open) are ordinary outcomes for the caller to skip, not exceptions.
 *
 * <p>A file is read until a read returns fewer bytes than asked for. kernfs formats a seq_file
 * whole before copying it out, so a short read is its end (measured: one {@code read} per file
 * here; exporter/KERNEL.md); a read that fills the buffer is followed by another, into a buffer
 * twice as large.
 */
public final class DirFileReader implements AutoCloseable {
    // int fstat(int fd, struct stat *statbuf);  <sys/stat.h>, an exported symbol since glibc 2.33
    private static final MethodHandle FSTAT = Libc.withErrno("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    // ssize_t read(int fd, void *buf, size_t count);  <unistd.h>
    private static final MethodHandle READ = Libc.withErrno("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // int close(int fd);  <unistd.h>
    private static final MethodHandle CLOSE = Libc.withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** {@code sizeof(struct stat)} and {@code offsetof(struct stat, st_ino)} on x86-64 and aarch64 (glibc). */
    private static final int STAT_SIZE = 144;
    private static final int STAT_INO = 8;
    private static final int NO_DIR = -1;

    /** A file name in native memory, NUL-terminated, made once and passed to every {@link #read}. */
    public static final class Name {
        private final MemorySegment c;
        private final String text;

        private Name(String text) {
            this.text = text;
            this.c = Arena.global().allocateFrom(text, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private final Arena arena = Arena.ofShared();
    private final CPath path = new CPath(arena);
    private final MemorySegment stat = arena.allocate(STAT_SIZE, 8);
    private MemorySegment buf;
    private int dir = NO_DIR;

    /** @param capacity the first size of the read buffer (it doubles when a file does not fit) */
    public DirFileReader(int capacity) {
        this.buf = arena.allocate(Math.max(256, capacity), 8);
    }

    /** A name for {@link #read}; allocated in the global arena, so make each one once (a constant). */
    public static Name name(String fileName) {
        if (fileName.isEmpty() || fileName.indexOf('/') >= 0) {
            throw new IllegalArgumentException("not a file name: " + fileName);
        }
        return new Name(fileName);
    }

    /**
     * Opens {@code relativePath} below {@code parent} ({@code openat(parent, path, O_RDONLY |
     * O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)}) as the current directory, closing the previous one,
     * and returns its inode number ({@code fstat}): on cgroupfs, the cgroup id, which tells the
     * caller whether the path still names the cgroup it meant.
     *
     * @param relativePath raw path bytes without NUL; empty for {@code parent} itself
     * @return the inode number (positive), or {@code -errno}
     */
    public long openDir(Fd parent, byte[] relativePath) {
        closeDir();
        if (relativePath.length > CPath.PATH_MAX) {
            return -Errno.EINVAL;
        }
        int fd = Libc.openat(parent.get(), path.of(relativePath),
                Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC | Libc.O_NOFOLLOW);
        if (fd < 0) {
            return fd;
        }
        dir = fd;
        MemorySegment state = Libc.callState();
        int rc;
        try {
            rc = (int) FSTAT.invokeExact(state, fd, stat);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (rc < 0) {
            int errno = Libc.errno(state);
            closeDir();
            return -errno;
        }
        return stat.get(ValueLayout.JAVA_LONG, STAT_INO);
    }

    /**
     * Reads the whole file {@code name} of the current directory into {@code into}, from index 0.
     *
     * @return the file's length in bytes (at most {@code into.length}), or {@code -errno};
     *     {@code -EFBIG} when the file is longer than {@code into} (nothing useful was copied)
     */
    public int read(Name name, byte[] into) {
        if (dir == NO_DIR) {
            return -Errno.EBADF;
        }
        int fd = Libc.openat(dir, name.c, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0) {
            return fd;
        }
        try {
            long total = 0;
            while (true) {
                long want = buf.byteSize() - total;
                long n = readOnce(fd, buf.asSlice(total), want);
                if (n < 0) {
                    return (int) n;
                }
                total += n;
                if (n < want) {
                    break; // a short read: kernfs gave the whole rest
                }
                grow(total);
            }
            if (total > into.length) {
                return -Errno.EFBIG;
            }
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, into, 0, (int) total);
            return (int) total;
        } finally {
            closeRaw(fd);
        }
    }

    private long readOnce(int fd, MemorySegment into, long count) {
        MemorySegment state = Libc.callState();
        while (true) {
            long n;
            try {
                n = (long) READ.invokeExact(state, fd, into, count);
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
            if (n >= 0) {
                return n;
            }
            int errno = Libc.errno(state);
            if (errno != Errno.EINTR) {
                return -errno;
            }
        }
    }

    private void grow(long keep) {
        MemorySegment bigger = arena.allocate(buf.byteSize() * 2, 8);
        MemorySegment.copy(buf, 0, bigger, 0, keep);
        buf = bigger; // the old one stays in the arena until close: files this large are rare
    }

    /** Closes the current directory, if one is open. */
    public void closeDir() {
        if (dir != NO_DIR) {
            closeRaw(dir);
            dir = NO_DIR;
        }
    }

    private static void closeRaw(int fd) {
        try {
            int rc = (int) CLOSE.invokeExact(Libc.callState(), fd);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        // close(2) releases the fd even when it reports an error (EINTR included): nothing to retry
    }

    /** Closes the current directory and frees the buffers. */
    @Override
    public void close() {
        closeDir();
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
