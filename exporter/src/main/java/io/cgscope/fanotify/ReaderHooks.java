package io.cgscope.fanotify;

import io.cgscope.linux.Fd;
import io.cgscope.linux.SyscallException;

/**
 * What a test may do to the fanotify reader ({@link CgroupWatcher#hooks}), at the one point of each
 * turn where it holds nothing: after it woke up, before it reads. {@link #NONE} in production.
 * Tests implement it to stall the reader, make it fail, or refuse a new mark (io.cgscope.testing.ReaderFaults).
 */
public interface ReaderHooks {
    ReaderHooks NONE = new ReaderHooks() {
    };

    /** Opens a fanotify group with the mark on the whole cgroup2 file system. */
    interface Opener {
        Fd open() throws SyscallException;
    }

    /** On the reader thread at each turn; may block (a stalled reader) or throw (a reader bug). */
    default void turn() {
    }

    /** How a lost fd is replaced; {@code mark} places a new mark (a test may refuse, as after the privilege drop). */
    default Fd reopen(Opener mark) throws SyscallException {
        return mark.open();
    }
}
