package io.cgscope.cgroupfs;

/** The cgroup2 file system cannot be found or used; the message says why in one line. */
public final class CgroupFsException extends Exception {
    public CgroupFsException(String message, Throwable cause) {
        super(message, cause);
    }
}
