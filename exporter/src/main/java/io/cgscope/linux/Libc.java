package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc functions cgscope calls, bound once with Panama FFM. This package is the only place
 * that links libc. Every handle captures errno ({@link Linker.Option#captureCallState}); errno is
 * read only after a failing return. One convention: EINTR is retried (but by {@code close}, which
 * has closed the fd anyway, and {@code poll}, where it counts as a timeout); expected errnos
 * (EAGAIN, ENOENT from a race) are results for the caller, returned as {@code -errno}, never
 * exceptions; everything else is a {@link SyscallException} naming the call.
 *
 * <p>Over 400 lines because it is the one binding of one library (STYLE.md: one binding class per
 * native library): each function is a handle, its C prototype and one typed method, nothing else.
 */
public final class Libc {
    static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** One errno slot per thread, reused: allocating it per call would cost more than some calls. */
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    // int fanotify_init(unsigned int flags, unsigned int event_f_flags);  <sys/fanotify.h>
    private static final MethodHandle FANOTIFY_INIT = withErrno("fanotify_init",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // int fanotify_mark(int fanotify_fd, unsigned int flags, uint64_t mask, int dirfd, const char *pathname);
    private static final MethodHandle FANOTIFY_MARK = withErrno("fanotify_mark",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS));
    // ssize_t read(int fd, void *buf, size_t count);  <unistd.h>
    private static final MethodHandle READ = withErrno("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // ssize_t write(int fd, const void *buf, size_t count);  <unistd.h>
    private static final MethodHandle WRITE = withErrno("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // int close(int fd);  <unistd.h>
    private static final MethodHandle CLOSE = withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // int eventfd(unsigned int initval, int flags);  <sys/eventfd.h>
    private static final MethodHandle EVENTFD = withErrno("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // int poll(struct pollfd *fds, nfds_t nfds, int timeout);  <poll.h>
    private static final MethodHandle POLL = withErrno("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // int openat(int dirfd, const char *pathname, int flags, ... /* mode_t mode */);  <fcntl.h>
    // Bound without the variadic mode: cgscope never passes O_CREAT or O_TMPFILE.
    private static final MethodHandle OPENAT = withErrno("openat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    // ssize_t getdents64(int fd, void *dirp, size_t count);  <dirent.h>, glibc >= 2.30
    private static final MethodHandle GETDENTS64 = withErrno("getdents64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // off_t lseek(int fd, off_t offset, int whence);  <unistd.h>
    private static final MethodHandle LSEEK = withErrno("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    // int statfs(const char *path, struct statfs *buf);  <sys/vfs.h>
    private static final MethodHandle STATFS = withErrno("statfs",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // int name_to_handle_at(int dirfd, const char *pathname, struct file_handle *handle, int *mount_id, int flags);
    private static final MethodHandle NAME_TO_HANDLE_AT = withErrno("name_to_handle_at",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    // int open_by_handle_at(int mount_fd, struct file_handle *handle, int flags);  <fcntl.h>
    private static final MethodHandle OPEN_BY_HANDLE_AT = withErrno("open_by_handle_at",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    // pid_t getpid(void);  <unistd.h>
    private static final MethodHandle GETPID = plain("getpid", FunctionDescriptor.of(JAVA_INT));
    // long syscall(long number, ...);  <unistd.h>, bound for perf_event_open(2), which has no glibc
    // wrapper: int perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
    // unsigned long flags). Variadic from the second argument; glibc's syscall() reads every argument
    // as a long, so the ints are passed as sign-extended longs (an int's upper register half is undefined).
    private static final MethodHandle SYSCALL_PERF_EVENT_OPEN = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(() -> new UnsatisfiedLinkError("libc has no syscall")),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    // int vsnprintf(char *str, size_t size, const char *format, va_list ap);  <stdio.h>
    // A va_list parameter is passed as a pointer on x86-64 (an array type) and on arm64 (a struct over
    // 16 bytes goes by reference): the address libbpf's print callback receives (its size: Arch).
    private static final MethodHandle VSNPRINTF = plain("vsnprintf",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));

    public static final int AT_FDCWD = -100;               // <fcntl.h>
    public static final int O_RDONLY = 0;                   // <fcntl.h>
    public static final int O_NONBLOCK = 0x800;             // <asm-generic/fcntl.h>
    public static final int O_DIRECTORY = Arch.current().oDirectory;  // differs on arm64: Arch
    public static final int O_NOFOLLOW = Arch.current().oNofollow;    // differs on arm64: Arch
    public static final int O_CLOEXEC = 0x80000;            // <asm-generic/fcntl.h>
    public static final int O_PATH = 0x200000;              // <asm-generic/fcntl.h>
    public static final int EFD_CLOEXEC = O_CLOEXEC;        // <sys/eventfd.h>
    public static final int EFD_NONBLOCK = O_NONBLOCK;      // <sys/eventfd.h>
    public static final long SYS_PERF_EVENT_OPEN = Arch.current().sysPerfEventOpen;
    public static final long PERF_FLAG_FD_CLOEXEC = 8;      // <linux/perf_event.h>

    private Libc() {
    }

    static MethodHandle withErrno(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO);
    }

    /** A handle without errno capture, or null when libc lacks the symbol. */
    static MethodHandle plain(String name, FunctionDescriptor descriptor) {
        return LINKER.defaultLookup().find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, descriptor))
                .orElse(null);
    }

    static MemorySegment callState() {
        return CALL_STATE.get();
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** Rethrows what a downcall threw: only programming errors (wrong types) or VM errors can arrive here. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code fanotify_init(flags, event_f_flags)}: a new fanotify group. */
    public static Fd fanotifyInit(int flags, int eventFlags, String describeFlags) throws SyscallException {
        MemorySegment state = callState();
        int fd;
        try {
            fd = (int) FANOTIFY_INIT.invokeExact(state, flags, eventFlags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw new SyscallException("fanotify_init(" + describeFlags + ")", errno(state));
        }
        return new Fd(fd, "fanotify");
    }

    /** {@code fanotify_mark(fd, flags, mask, AT_FDCWD, path)}. */
    public static void fanotifyMark(Fd fanotify, int flags, long mask, String path, String describeFlags)
            throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            int rc = (int) FANOTIFY_MARK.invokeExact(state, fanotify.get(), flags, mask, AT_FDCWD,
                    arena.allocateFrom(path));
            if (rc < 0) {
                throw new SyscallException("fanotify_mark(" + describeFlags + ", " + path + ")", errno(state));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code read(fd, buf, buf.byteSize())}, retried on EINTR.
     *
     * @return the bytes read, 0 at end of file, or {@code -EAGAIN} when the fd is non-blocking and nothing is there
     */
    public static long read(Fd fd, MemorySegment buf) throws SyscallException {
        return transfer(READ, "read", fd, buf, buf.byteSize());
    }

    /** {@code write(fd, buf, length)}, retried on EINTR; returns {@code -EAGAIN} when it would block. */
    public static long write(Fd fd, MemorySegment buf, long length) throws SyscallException {
        return transfer(WRITE, "write", fd, buf, length);
    }

    /** read or write (same C signature): retried on EINTR, {@code -EAGAIN} returned, any other errno thrown. */
    private static long transfer(MethodHandle call, String name, Fd fd, MemorySegment buf, long length)
            throws SyscallException {
        MemorySegment state = callState();
        while (true) {
            long n;
            try {
                n = (long) call.invokeExact(state, fd.get(), buf, length);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (n >= 0) {
                return n;
            }
            int errno = errno(state);
            if (errno == Errno.EINTR) {
                continue;
            }
            if (errno == Errno.EAGAIN) {
                return -Errno.EAGAIN;
            }
            throw new SyscallException(name + "(" + fd + ")", errno);
        }
    }

    /** {@code close(fd)}; EINTR still closes the fd on Linux, so it is not retried. */
    static void close(int fd, String what) throws SyscallException {
        MemorySegment state = callState();
        int rc;
        try {
            rc = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc < 0 && errno(state) != Errno.EINTR) {
            throw new SyscallException("close(" + what + " fd " + fd + ")", errno(state));
        }
    }

    /** {@code eventfd(initval, flags)}. */
    public static Fd eventfd(int initval, int flags) throws SyscallException {
        MemorySegment state = callState();
        int fd;
        try {
            fd = (int) EVENTFD.invokeExact(state, initval, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw new SyscallException("eventfd", errno(state));
        }
        return new Fd(fd, "eventfd");
    }

    /** {@code poll(fds, n, timeoutMillis)}; EINTR counts as a timeout (0). */
    static int poll(MemorySegment fds, int count, int timeoutMillis) throws SyscallException {
        MemorySegment state = callState();
        int rc;
        try {
            rc = (int) POLL.invokeExact(state, fds, (long) count, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc < 0) {
            int errno = errno(state);
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new SyscallException("poll", errno);
        }
        return rc;
    }

    /** {@code open(path, flags)}. */
    public static Fd open(String path, int flags) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = openat(AT_FDCWD, arena.allocateFrom(path), flags);
            if (fd < 0) {
                throw new SyscallException("open(" + path + ")", -fd);
            }
            return new Fd(fd, path);
        }
    }

    /**
     * {@code openat(dirfd, name, flags)} for a NUL-terminated name already in native memory.
     *
     * @return the new fd, or {@code -errno}: the caller decides which errnos are a race (a
     *     directory removed under a sweep) and which are failures
     */
    public static int openat(int dirfd, MemorySegment cName, int flags) {
        MemorySegment state = callState();
        while (true) {
            int fd;
            try {
                fd = (int) OPENAT.invokeExact(state, dirfd, cName, flags);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (fd >= 0) {
                return fd;
            }
            int errno = errno(state);
            if (errno != Errno.EINTR) {
                return -errno;
            }
        }
    }

    /**
     * {@code getdents64(fd, buf, buf.byteSize())}: {@code struct linux_dirent64} records.
     *
     * @return bytes filled, 0 at the end of the directory
     */
    public static long getdents64(Fd dir, MemorySegment buf) throws SyscallException {
        MemorySegment state = callState();
        long n;
        try {
            n = (long) GETDENTS64.invokeExact(state, dir.get(), buf, buf.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (n < 0) {
            int errno = errno(state);
            if (errno == Errno.ENOENT) {
                return 0; // the directory was removed while we read it: it has no entries left
            }
            throw new SyscallException("getdents64(" + dir + ")", errno);
        }
        return n;
    }

    /** {@code lseek(dir, 0, SEEK_SET)}: the next {@link #getdents64} lists the directory from its start. */
    public static void rewind(Fd dir) throws SyscallException {
        MemorySegment state = callState();
        long rc;
        try {
            rc = (long) LSEEK.invokeExact(state, dir.get(), 0L, 0 /* SEEK_SET */);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc < 0) {
            throw new SyscallException("lseek(" + dir + ", 0, SEEK_SET)", errno(state));
        }
    }

    /** What {@code statfs(2)} says of a file system: {@code f_type} and {@code f_fsid}. */
    public record Statfs(long type, int fsid0, int fsid1) {
    }

    /** {@code statfs(path, &buf)}. */
    public static Statfs statfs(String path) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            // glibc's struct statfs: f_type (long) at 0, f_fsid (int[2]) where Arch says.
            Arch arch = Arch.current();
            MemorySegment buf = arena.allocate(arch.statfsSize, 8);
            MemorySegment state = callState();
            int rc = (int) STATFS.invokeExact(state, arena.allocateFrom(path), buf);
            if (rc < 0) {
                throw new SyscallException("statfs(" + path + ")", errno(state));
            }
            return new Statfs(buf.get(JAVA_LONG, 0), buf.get(JAVA_INT, arch.statfsFsidOffset),
                    buf.get(JAVA_INT, arch.statfsFsidOffset + 4));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code name_to_handle_at(...)}: 0, or {@code -errno}. */
    static int nameToHandleAt(int dirfd, MemorySegment cPath, MemorySegment handle, MemorySegment mountId, int flags) {
        MemorySegment state = callState();
        int rc;
        try {
            rc = (int) NAME_TO_HANDLE_AT.invokeExact(state, dirfd, cPath, handle, mountId, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : 0;
    }

    /** {@code open_by_handle_at(...)}: the fd, or {@code -errno}. */
    static int openByHandleAt(int mountFd, MemorySegment handle, int flags) {
        MemorySegment state = callState();
        int rc;
        try {
            rc = (int) OPEN_BY_HANDLE_AT.invokeExact(state, mountFd, handle, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : rc;
    }

    /**
     * {@code perf_event_open(attr, pid, cpu, groupFd, flags)} through {@code syscall(2)}.
     *
     * @param attr a {@code struct perf_event_attr}, its {@code size} field filled in
     */
    public static Fd perfEventOpen(MemorySegment attr, int pid, int cpu, int groupFd, long flags, String what)
            throws SyscallException {
        MemorySegment state = callState();
        long fd;
        try {
            fd = (long) SYSCALL_PERF_EVENT_OPEN.invokeExact(state, SYS_PERF_EVENT_OPEN, attr, (long) pid, (long) cpu,
                    (long) groupFd, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw new SyscallException("perf_event_open(" + what + ", cpu " + cpu + ")", errno(state));
        }
        return new Fd((int) fd, "perf_event " + what + " cpu " + cpu);
    }

    /**
     * {@code vsnprintf(buf, buf.byteSize(), format, ap)}: formats a C {@code va_list} received by an
     * upcall into {@code buf}. Never throws.
     *
     * @return the length the whole text needs (it was cut when {@code >= buf.byteSize()}), or -1
     */
    public static int vsnprintf(MemorySegment buf, MemorySegment format, MemorySegment vaList) {
        if (VSNPRINTF == null) {
            return -1;
        }
        try {
            return (int) VSNPRINTF.invokeExact(buf, buf.byteSize(), format, vaList);
        } catch (Throwable t) {
            return -1;
        }
    }
}
