package io.cgscope.linux;

import java.util.concurrent.atomic.AtomicBoolean;

/** A file descriptor that closes exactly once, whoever calls {@link #close()} and however often. */
public final class Fd implements AutoCloseable {
    private final int fd;
    private final String what;
    private final AtomicBoolean closed = new AtomicBoolean();

    public Fd(int fd, String what) {
        if (fd < 0) {
            throw new IllegalArgumentException("not an fd: " + fd);
        }
        this.fd = fd;
        this.what = what;
    }

    /** The fd number; throws when already closed, so a closed number is never reused by mistake. */
    public int get() {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        return fd;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() throws SyscallException {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd, what);
        }
    }

    /** Closes, reporting a failure nowhere: for cleanup paths that already have an error to report. */
    public void closeQuietly() {
        try {
            close();
        } catch (SyscallException ignored) {
            // the fd is released by the kernel even when close reports an error
        }
    }

    @Override
    public String toString() {
        return what + " fd " + fd;
    }
}
