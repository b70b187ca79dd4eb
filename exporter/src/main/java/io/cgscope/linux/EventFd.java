package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An eventfd that wakes a thread blocked in {@link Poller#await}: closing an fd does not wake a
 * thread blocked in {@code read} or {@code poll} on it, so shutdown needs its own signal.
 */
public final class EventFd implements AutoCloseable {
    private final Fd fd;
    private final MemorySegment one = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG);
    private final MemorySegment scratch = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG);

    public EventFd() throws SyscallException {
        this.fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    public Fd fd() {
        return fd;
    }

    /** Adds 1 to the counter: the fd becomes readable. Safe from any thread. */
    public void signal() throws SyscallException {
        Libc.write(fd, one, 8);
    }

    /** Resets the counter, so that the fd is no longer readable. */
    public void drain() throws SyscallException {
        Libc.read(fd, scratch);
    }

    @Override
    public void close() {
        fd.closeQuietly();
    }
}
