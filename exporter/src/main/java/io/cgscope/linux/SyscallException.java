package io.cgscope.linux;

import java.io.IOException;

/**
 * A system call or libc function failed. The message names the call and the errno with its
 * symbolic name and text, e.g. {@code fanotify_mark(FAN_MARK_FILESYSTEM, /sys/fs/cgroup) failed:
 * EINVAL (Invalid argument)}.
 */
public final class SyscallException extends IOException {
    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        super(call + " failed: " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The call, with the arguments that identify it, as it appears in the message. */
    public String call() {
        return call;
    }

    /** The errno value the call left (positive). */
    public int errno() {
        return errno;
    }
}
