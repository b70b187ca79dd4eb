package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code poll(2)} over a fixed set of fds for one thread; the {@code struct pollfd} array is
 * allocated once. Not thread-safe: one owner thread.
 */
public final class Poller {
    private static final short POLLIN = 0x1;   // <poll.h>
    private static final int POLLFD_SIZE = 8;  // struct pollfd { int fd; short events; short revents; }
    private final Fd[] fds;
    private final MemorySegment pollfds;

    public Poller(Arena arena, Fd... fds) {
        this.fds = fds.clone();
        this.pollfds = arena.allocate((long) POLLFD_SIZE * fds.length, 8);
    }

    /**
     * Waits until one of the fds is readable or the timeout passes.
     *
     * @param timeoutMillis -1 waits forever
     * @return a bit set: bit i is set when {@code fds[i]} is readable (or in error); 0 on timeout
     */
    public int await(int timeoutMillis) throws SyscallException {
        for (int i = 0; i < fds.length; i++) {
            long base = (long) i * POLLFD_SIZE;
            pollfds.set(ValueLayout.JAVA_INT, base, fds[i].get());
            pollfds.set(ValueLayout.JAVA_SHORT, base + 4, POLLIN);
            pollfds.set(ValueLayout.JAVA_SHORT, base + 6, (short) 0);
        }
        if (Libc.poll(pollfds, fds.length, timeoutMillis) == 0) {
            return 0;
        }
        int ready = 0;
        for (int i = 0; i < fds.length; i++) {
            if (pollfds.get(ValueLayout.JAVA_SHORT, (long) i * POLLFD_SIZE + 6) != 0) {
                ready |= 1 << i;
            }
        }
        return ready;
    }
}
